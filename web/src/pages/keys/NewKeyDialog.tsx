import { useState } from "react";

import { Alert } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { Dialog } from "@/components/ui/dialog";

import type { CreatedKey } from "./types";

/**
 * The one time a key's secret is shown. Closing forgets it: the page keeps only the list,
 * which never holds a secret.
 */
export function NewKeyDialog({ created, onClose }: { created: CreatedKey | null; onClose: () => void }) {
  const [copied, setCopied] = useState<"yes" | "failed" | null>(null);

  async function copy(secret: string) {
    try {
      await navigator.clipboard.writeText(secret);
      setCopied("yes");
    } catch {
      // No clipboard permission (or an insecure origin): the text stays selectable by hand.
      setCopied("failed");
    }
  }

  return (
    <Dialog
      open={created !== null}
      onClose={() => {
        setCopied(null);
        onClose();
      }}
      title="Your new API key"
    >
      {created && (
        <div className="grid grid-cols-1 gap-4">
          <Alert variant="destructive">
            Copy it now: this is the only time the full key is shown. After you close this, only its prefix is
            kept on screen.
          </Alert>
          <div className="grid grid-cols-1 gap-1.5">
            <label htmlFor="new-key-secret" className="text-sm font-medium">
              {created.name}
            </label>
            <input
              id="new-key-secret"
              readOnly
              value={created.key}
              onFocus={(event) => event.currentTarget.select()}
              className="w-full rounded-md border bg-muted px-3 py-2 font-mono text-sm break-all"
            />
          </div>
          <p className="text-sm" role="status">
            {copied === "yes" ? "Copied to the clipboard." : copied === "failed" ? "Could not copy: select the key and copy it by hand." : ""}
          </p>
          <div className="flex flex-wrap justify-end gap-2">
            <Button variant="outline" onClick={() => void copy(created.key)}>
              Copy
            </Button>
            <Button
              onClick={() => {
                setCopied(null);
                onClose();
              }}
            >
              I have saved it
            </Button>
          </div>
        </div>
      )}
    </Dialog>
  );
}
