import { describe, expect, it } from "vitest";
import { isbn10CheckDigit, isbn13CheckDigit, isbnProblem, isValidIsbn, normalize } from "./isbn.js";

describe("normalize", () => {
  it("drops spaces, hyphens and the label", () => {
    expect(normalize(" ISBN: 978-0 306-40615-7 ")).toBe("9780306406157");
  });
  it("upper-cases a trailing x", () => expect(normalize("0-8044-2957-x")).toBe("080442957X"));
});

describe("check digits", () => {
  it("computes an ISBN-13's", () => expect(isbn13CheckDigit("978030640615")).toBe("7"));
  it("computes an ISBN-10's", () => expect(isbn10CheckDigit("030640615")).toBe("2"));
  it("gives X for an ISBN-10's ten", () => expect(isbn10CheckDigit("080442957")).toBe("X"));
});

describe("isbnProblem", () => {
  it.each(["978-0-306-40615-7", "0-306-40615-2", "080442957X", "979-10-90636-07-1"])(
    "accepts %s",
    (isbn) => expect(isbnProblem(isbn)).toBe(""),
  );
  it.each([
    ["", "Enter an ISBN"],
    ["978-0-306-40615-8", "Wrong ISBN-13 check digit"],
    ["0-306-40615-3", "Wrong ISBN-10 check digit"],
    ["977-0-306-40615-7", "An ISBN-13 starts with 978 or 979"],
    ["978-0-306-4061X-7", "An ISBN-13 is 13 digits"],
    ["12345", "An ISBN has 10 or 13 characters, not 5"],
  ])("refuses %j: %s", (isbn, problem) => expect(isbnProblem(isbn)).toBe(problem));
  it("agrees with isValidIsbn", () => {
    expect(isValidIsbn("9780306406157")).toBe(true);
    expect(isValidIsbn("9780306406158")).toBe(false);
  });
});
