// What the specs share: a fresh ISBN, the count the page shows, and the form filled in.
import { expect } from "@playwright/test";

/** A valid ISBN-13 made from a serial number, so that each test adds a book of its own. */
export function isbnFor(serial) {
  const body = `978${String(serial).padStart(9, "0")}`;
  let total = 0;
  for (let i = 0; i < 12; i += 1) total += Number(body[i]) * (i % 2 ? 3 : 1);
  return body + String((10 - (total % 10)) % 10);
}

/** The number of books the list shows, read from its rows (and checked against its count). */
export async function bookCount(page) {
  const rows = await page.locator("#books tbody tr").count();
  await expect(page.locator("#count")).toHaveText(rows === 1 ? "1 book" : `${rows} books`);
  return rows;
}

export async function fillBook(page, { isbn, title, author, price }) {
  await expect(page.locator("#add-book")).toHaveAttribute("data-ready", "true");
  await page.getByLabel("ISBN").fill(isbn);
  await page.getByLabel("Title").fill(title);
  await page.getByLabel("Author").fill(author);
  await page.getByLabel("Price").fill(price);
}
