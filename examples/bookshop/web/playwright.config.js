// The bookshop's browser tests: the system's Chromium (Debian's chromium package, never a
// downloaded build), headless, each worker on the copy of bookshop.web that suitekit started
// for it (SUITEKIT_BACKEND_URL_<parallel index>), with a database and a Redis database of its own.
import { defineConfig } from "@playwright/test";

const index = process.env.TEST_PARALLEL_INDEX ?? "0";
// Chromium's sandbox cannot start as root (CI containers run as root): only then is it off.
const asRoot = typeof process.getuid === "function" && process.getuid() === 0;

export default defineConfig({
  testDir: "./e2e",
  outputDir: "./test-results",
  fullyParallel: false,
  retries: 0,
  timeout: 30_000,
  use: {
    baseURL: process.env["SUITEKIT_BACKEND_URL_" + index],
    headless: true,
  },
  projects: [
    {
      name: "chromium",
      use: {
        browserName: "chromium",
        launchOptions: {
          executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
          args: asRoot ? ["--no-sandbox"] : [],
        },
      },
    },
  ],
});
