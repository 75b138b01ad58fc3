// Canceling a job from the live list: on a server that runs no jobs (JOBS_IN_SERVE=false, no
// worker), a started export stays queued, shows a Cancel button, and is canceled by it; the
// card following the job says so too.
import assert from "node:assert/strict";

import { checkA11y, flow, shot, signUp } from "./lib.mjs";

await flow("jobs-cancel", async ({ page, errors }) => {
  await signUp(page, { name: "Cancel Tester" });
  await page.goto("/jobs");
  await page.getByText("No jobs yet.").waitFor();

  await page.getByRole("button", { name: "Export my data" }).click();
  const list = page.getByRole("region", { name: "Your jobs" });
  const row = list.getByRole("row").filter({ hasText: "Data export" });
  await row.getByText("queued").waitFor();
  await page.getByRole("progressbar", { name: "Export progress" }).waitFor();
  await shot(page, "jobs-queued");
  await checkA11y(page, "jobs with a queued job");

  await row.getByRole("button", { name: /^Cancel Data export/ }).click();
  await row.getByText("canceled").waitFor();
  assert.equal(await row.getByRole("button", { name: /^Cancel/ }).count(), 0, "no Cancel once canceled");
  await page.getByText("The job was canceled.").waitFor();
  const job = (await (await page.request.get("/api/jobs")).json()).data[0];
  assert.equal(job.status, "canceled");
  await shot(page, "jobs-canceled");

  assert.deepEqual(errors, [], "console errors, CSP violations or missing assets");
});
