import { describe, expect, it } from "vitest";
import { formatPence, pricePreview, toPence } from "./price.js";

describe("toPence", () => {
  it.each([
    ["12", 1200],
    ["12.5", 1250],
    ["12.50", 1250],
    ["0.10", 10],
    ["0.005", 1],
    ["0.004", 0],
    ["19.995", 2000],
  ])("reads %s as %i pence", (text, pence) => expect(toPence(text)).toBe(pence));
  it.each(["", "-1", "1e3", "12,50", "£12", "1.2.3"])("refuses %j", (text) => {
    expect(toPence(text)).toBeNull();
  });
});

describe("formatPence", () => {
  it("shows pounds and pence", () => expect(formatPence(1250)).toBe("£12.50"));
  it("groups thousands", () => expect(formatPence(123456)).toBe("£1,234.56"));
  it("pads pence", () => expect(formatPence(7)).toBe("£0.07"));
});

describe("pricePreview", () => {
  it("previews a price", () => expect(pricePreview(" 9.999 ")).toBe("£10.00"));
  it("asks for a price", () => expect(pricePreview("abc")).toBe("Enter a price such as 12.50"));
});
