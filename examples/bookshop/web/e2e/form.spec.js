import { expect, test } from "@playwright/test";
import { bookCount, fillBook, isbnFor } from "./books.js";

test("a mistyped ISBN is refused in the browser, before it is sent", async ({ page }) => {
  await page.goto("/");
  const before = await bookCount(page);
  const isbn = isbnFor(2002);
  const wrong = isbn.slice(0, 12) + String((Number(isbn[12]) + 1) % 10);
  await fillBook(page, { isbn: wrong, title: "Emma", author: "Jane Austen", price: "4.50" });
  const field = page.getByLabel("ISBN");
  await expect(field).toHaveJSProperty("validationMessage", "Wrong ISBN-13 check digit");
  await page.getByRole("button", { name: "Add" }).click();
  await expect(page).toHaveURL("/");
  expect(await bookCount(page)).toBe(before);

  await field.fill(isbn);
  await page.getByRole("button", { name: "Add" }).click();
  await expect(page.locator("#added")).toHaveText(`Added ${isbn}.`);
  expect(await bookCount(page)).toBe(before + 1);
});

test("the server refuses a book it already has", async ({ page }) => {
  await page.goto("/");
  const isbn = isbnFor(3003);
  const book = { isbn, title: "Persuasion", author: "Jane Austen", price: "5" };
  await fillBook(page, book);
  await page.getByRole("button", { name: "Add" }).click();
  await expect(page.locator("#added")).toBeVisible();
  const count = await bookCount(page);

  await fillBook(page, book);
  await page.getByRole("button", { name: "Add" }).click();
  await expect(page.locator("#error")).toContainText("is already in the catalogue");
  // The form keeps what was typed, and the list is unchanged.
  await expect(page.getByLabel("Title")).toHaveValue("Persuasion");
  expect(await bookCount(page)).toBe(count);
});
