import type { ExportResult } from "./types";

/**
 * The export's signed link on this page's origin. The server builds it on its BASE_URL,
 * which may name another host than the one this page was loaded from (a proxy, a dev
 * preview); the path and the signature are what identify the archive.
 */
export function exportHref(result: ExportResult): string {
  try {
    const url = new URL(result.url, window.location.origin);
    return `${url.pathname}${url.search}`;
  } catch {
    return result.url;
  }
}

const units = ["bytes", "KB", "MB", "GB"];

export function formatSize(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}
