// ISBN checks in the browser, the same rules as bookshop.domain.isbn (and the isbn crate):
// the form refuses a mistyped ISBN before it is sent.

/** The ISBN without spaces, hyphens or an "ISBN" label, upper-cased. */
export function normalize(value) {
  let text = value.trim();
  if (text.toUpperCase().startsWith("ISBN")) {
    text = text.slice(4).replace(/^:/, "").trim();
  }
  return text.replace(/[\s-]/g, "").toUpperCase();
}

/** The check character of an ISBN-10's first nine digits: "0"-"9" or "X". */
export function isbn10CheckDigit(firstNine) {
  let total = 0;
  for (let i = 0; i < 9; i += 1) total += (10 - i) * Number(firstNine[i]);
  const check = (11 - (total % 11)) % 11;
  return check === 10 ? "X" : String(check);
}

/** The check digit of an ISBN-13's first twelve digits. */
export function isbn13CheckDigit(firstTwelve) {
  let total = 0;
  for (let i = 0; i < 12; i += 1) total += Number(firstTwelve[i]) * (i % 2 ? 3 : 1);
  return String((10 - (total % 10)) % 10);
}

/** Why the text is not a valid ISBN-10 or ISBN-13, or "" when it is one. */
export function isbnProblem(value) {
  const text = normalize(value);
  if (text === "") return "Enter an ISBN";
  if (text.length === 10) {
    if (!/^\d{9}[\dX]$/.test(text)) return "An ISBN-10 is 9 digits then a digit or X";
    return isbn10CheckDigit(text) === text[9] ? "" : "Wrong ISBN-10 check digit";
  }
  if (text.length === 13) {
    if (!/^\d{13}$/.test(text)) return "An ISBN-13 is 13 digits";
    if (!/^97[89]/.test(text)) return "An ISBN-13 starts with 978 or 979";
    return isbn13CheckDigit(text) === text[12] ? "" : "Wrong ISBN-13 check digit";
  }
  return `An ISBN has 10 or 13 characters, not ${text.length}`;
}

export const isValidIsbn = (value) => isbnProblem(value) === "";
