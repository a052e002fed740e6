// Vitest runs the unit tests in src/ only: e2e/*.spec.js are Playwright's.
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: { include: ["src/**/*.test.js"] },
});
