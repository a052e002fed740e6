// Prices as the shop shows them: pounds and pence, rounded half-up like bookshop's pricing.

const AMOUNT = /^\d+(\.\d+)?$/;

/**
 * The amount in pence, rounded half-up, or null when the text is not a plain amount.
 * Decimal digits are handled as text: 0.1 + 0.2 style float errors never round a price.
 */
export function toPence(text) {
  const value = text.trim();
  if (!AMOUNT.test(value)) return null;
  const [pounds, decimals = ""] = value.split(".");
  const pence = Number(pounds) * 100 + Number(decimals.padEnd(2, "0").slice(0, 2));
  return decimals.length > 2 && decimals[2] >= "5" ? pence + 1 : pence;
}

/** "£1,234.50" for 123450 pence. */
export function formatPence(pence) {
  const pounds = Math.floor(pence / 100).toLocaleString("en-GB");
  return `£${pounds}.${String(pence % 100).padStart(2, "0")}`;
}

/** What the form shows beside its price field: the price as it will be stored. */
export function pricePreview(text) {
  const pence = toPence(text);
  return pence === null ? "Enter a price such as 12.50" : formatPence(pence);
}
