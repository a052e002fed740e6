import { expect, test } from "@playwright/test";
import { bookCount, fillBook, isbnFor } from "./books.js";

test("the page lists the catalogue and answers health checks", async ({ page, request }) => {
  expect((await request.get("/health")).status()).toBe(200);
  await page.goto("/");
  await expect(page).toHaveTitle("Bookshop");
  await expect(page.getByRole("heading", { name: "Bookshop" })).toBeVisible();
  await bookCount(page);
});

test("a book added through the form is listed, and looked up as JSON", async ({ page, request }) => {
  await page.goto("/");
  const before = await bookCount(page);
  const isbn = isbnFor(1001);
  await fillBook(page, { isbn, title: "Dune", author: "Frank Herbert", price: "9.999" });
  await expect(page.locator("#price-preview")).toHaveText("£10.00");
  await page.getByRole("button", { name: "Add" }).click();

  await expect(page.locator("#added")).toHaveText(`Added ${isbn}.`);
  // This worker's backend has a database of its own: no other worker's book is counted here.
  expect(await bookCount(page)).toBe(before + 1);
  const row = page.locator(`#books tr[data-isbn="${isbn}"]`);
  await expect(row).toContainText("Dune");
  await expect(row).toContainText("Frank Herbert");
  await expect(row.locator(".price")).toHaveText("10.00");

  const found = await request.get(`/books/${isbn}`);
  expect(found.status()).toBe(200);
  expect(await found.json()).toEqual({
    isbn,
    title: "Dune",
    author: "Frank Herbert",
    price: "10.00",
  });
});
