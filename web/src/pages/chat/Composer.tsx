/** The question box: Enter sends, Shift+Enter is a new line; Stop while an answer streams;
 * the model the next question goes to. */
import { type FormEvent, type KeyboardEvent, useId } from "react";

import { Button } from "@/components/ui/button";
import { Select, Textarea } from "@/components/ui/input";
import { Label } from "@/components/ui/label";

import type { ModelList } from "./types";

export function Composer({
  value,
  onChange,
  onSend,
  onStop,
  busy,
  streaming,
  models,
  model,
  onModel,
  inputId,
}: {
  value: string;
  onChange: (value: string) => void;
  onSend: () => void;
  onStop: () => void;
  /** An answer is on its way: no new question until it ends (the server says 409). */
  busy: boolean;
  /** We are reading an answer: it can be stopped. */
  streaming: boolean;
  models: ModelList | null;
  model: string;
  onModel: (model: string) => void;
  /** The box's id, so the page can put the focus back in it. */
  inputId: string;
}) {
  const id = useId();
  const canSend = !busy && value.trim().length > 0;

  function submit(event: FormEvent) {
    event.preventDefault();
    if (canSend) onSend();
  }

  function keyDown(event: KeyboardEvent<HTMLTextAreaElement>) {
    // Enter sends; Shift+Enter (and Enter while an input method composes a word) does not.
    if (event.key === "Enter" && !event.shiftKey && !event.nativeEvent.isComposing) {
      event.preventDefault();
      if (canSend) onSend();
    }
  }

  return (
    <form onSubmit={submit} className="grid gap-2 border-t pt-3">
      <Label htmlFor={inputId} className="sr-only">
        Message
      </Label>
      <Textarea
        id={inputId}
        data-testid="chat-input"
        value={value}
        onChange={(event) => onChange(event.target.value)}
        onKeyDown={keyDown}
        rows={2}
        maxLength={32000}
        placeholder="Ask anything, or tell the planner: “remind me to buy milk tomorrow”"
        aria-describedby={`${id}-hint`}
        className="max-h-48 resize-y"
      />
      <div className="flex flex-wrap items-center gap-2">
        <Label htmlFor={`${id}-model`} className="text-xs text-muted-foreground">
          Model
        </Label>
        <Select
          id={`${id}-model`}
          value={model}
          onChange={(event) => onModel(event.target.value)}
          disabled={!models}
          className="h-8 w-auto max-w-[14rem] text-xs"
        >
          {!models && <option value="">Loading…</option>}
          {models?.data.map((spec) => (
            <option key={spec.id} value={spec.id}>
              {spec.label}
              {spec.id === models.default ? " (default)" : ""}
            </option>
          ))}
        </Select>
        <p id={`${id}-hint`} className="hidden flex-1 text-xs text-muted-foreground sm:block">
          Enter sends, Shift+Enter starts a new line.
        </p>
        <div className="ml-auto flex gap-2">
          {streaming ? (
            <Button type="button" variant="outline" onClick={onStop}>
              Stop
            </Button>
          ) : null}
          <Button type="submit" disabled={!canSend}>
            Send
          </Button>
        </div>
      </div>
    </form>
  );
}
