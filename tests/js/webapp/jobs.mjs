// Jobs in the browser: a CSV of tasks imported from a file, its progress followed live to the
// result (rows imported, a refused row named by its number), the tasks there; a file with
// the wrong columns fails with the reason shown; the data export's download link answers a
// zip; the live job list shows them all.
import assert from "node:assert/strict";

import { checkA11y, flow, shot, signUp } from "./lib.mjs";

const TASKS_CSV = [
  "title,is_complete,due_date",
  "Buy milk,false,2026-12-01T10:00:00Z",
  "Pay rent,no,",
  ",yes,", // no title: refused, the third data row
  "",
].join("\n");

const WRONG_COLUMNS = "amount,category\n12.50,food\n";

await flow("jobs", async ({ page, errors }) => {
  await signUp(page, { name: "Jobs Tester" });
  await page.goto("/jobs");
  await page.getByRole("heading", { name: "Jobs", level: 1 }).waitFor();
  await page.getByText("No jobs yet.").waitFor();
  await checkA11y(page, "jobs");
  await shot(page, "jobs-empty");

  // Import tasks: progress, then the summary with the refused row's number.
  await page.getByLabel("CSV file").setInputFiles({ name: "tasks.csv", mimeType: "text/csv", buffer: Buffer.from(TASKS_CSV) });
  await page.getByLabel("Import into").selectOption("tasks");
  await page.getByRole("button", { name: "Import", exact: true }).click();
  const summary = page.getByRole("status").filter({ hasText: "rows imported" });
  await summary.waitFor();
  assert.match(await summary.innerText(), /2 rows imported \(tasks: 2\); 1 problem below/);
  const refused = page.getByRole("region", { name: "Rows not imported" });
  const refusedRow = refused.getByRole("row").nth(1);
  assert.deepEqual(
    (await refusedRow.getByRole("cell").allInnerTexts()).slice(0, 3),
    ["3", "4", "title"],
    "the third data row (line 4 of the file) is refused for its title",
  );
  await shot(page, "jobs-import-done");
  await checkA11y(page, "jobs after an import");

  const tasks = await (await page.request.get("/api/tasks")).json();
  assert.deepEqual(tasks.data.map((task) => task.title).sort(), ["Buy milk", "Pay rent"], "the imported tasks");

  // A file with the wrong columns: the job fails and says why.
  await page.getByLabel("CSV file").setInputFiles({ name: "wrong.csv", mimeType: "text/csv", buffer: Buffer.from(WRONG_COLUMNS) });
  await page.getByRole("button", { name: "Import", exact: true }).click();
  const failure = page.getByRole("alert").filter({ hasText: /column/i });
  await failure.waitFor();
  assert.match(await failure.innerText(), /title/, "the message names the table's columns");
  await shot(page, "jobs-import-failed");

  // Export: the job's download link answers the zip.
  await page.getByRole("button", { name: "Export my data" }).click();
  const download = page.getByRole("link", { name: /Download the archive/ });
  await download.waitFor();
  const archive = await page.request.get(await download.getAttribute("href"));
  assert.equal(archive.status(), 200, "the export link");
  assert.equal(archive.headers()["content-type"], "application/zip");
  assert.equal((await archive.body()).subarray(0, 2).toString(), "PK", "a zip archive");
  await shot(page, "jobs-export-ready");

  // The live list: the three jobs, newest first, with their outcome.
  const list = page.getByRole("region", { name: "Your jobs" });
  await list.getByRole("row").nth(3).waitFor();
  const rows = await list.getByRole("row").allInnerTexts();
  assert.match(rows[1], /Data export\s+succeeded/);
  assert.match(rows[2], /Import\s+failed/);
  assert.match(rows[3], /Import\s+succeeded/);
  await list.getByRole("link", { name: /^Download/ }).waitFor();

  // A phone, in the dark.
  await page.emulateMedia({ colorScheme: "dark" });
  await page.setViewportSize({ width: 375, height: 812 });
  await page.reload();
  await list.getByRole("row").nth(3).waitFor();
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= 375, `/jobs fits a 375 px screen (${width} px wide)`);
  await shot(page, "jobs-phone-dark");
  await checkA11y(page, "jobs on a phone, dark");

  assert.deepEqual(errors, [], "console errors, CSP violations or missing assets");
});
