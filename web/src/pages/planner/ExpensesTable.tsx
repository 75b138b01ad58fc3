/** Expenses: add, edit in the row, delete; live through `expenses.list`, latest first. */
import { type FormEvent, useId, useState } from "react";

import { Button } from "@/components/ui/button";
import { Input } from "@/components/ui/input";
import { Field } from "@/components/ui/label";
import { Table, TableBody, TableCell, TableHead, TableHeader, TableRow } from "@/components/ui/table";
import { api } from "@/lib/api";
import { formatDateTime, fromLocalInput, toLocalInput } from "@/lib/format";

import { localInputValue } from "./dates";
import { formatCents, toCents } from "./money";
import { cancelOnEscape, CellInput, DeleteButton, FormError, ListStateRow, LoadMore, useRowEditing } from "./parts";
import type { Expense, ExpenseInput } from "./types";
import { useLiveList } from "./useLiveList";
import { useSubmit } from "./useSubmit";

const ARGS = { sort: "-incurred_at" };

/** The amount goes to the API as typed: the server's rules (> 0, 2 decimals) are the ones shown. */
function expenseInput(form: FormData): ExpenseInput {
  const when = String(form.get("incurred_at") ?? "");
  return {
    amount: String(form.get("amount") ?? "").trim(),
    category: String(form.get("category") ?? ""),
    incurred_at: when ? fromLocalInput(when) : "",
  };
}

const showAmount = (amount: string): string => {
  const cents = toCents(amount);
  return cents === null ? amount : formatCents(cents);
};

function CreateExpense() {
  const submit = useSubmit();
  const [now, setNow] = useState(() => localInputValue(new Date()));
  const [formKey, setFormKey] = useState(0);
  async function create(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const body = expenseInput(new FormData(event.currentTarget));
    if (await submit.run(() => api<Expense>("/api/expenses", { method: "POST", body }))) {
      setNow(localInputValue(new Date()));
      setFormKey((key) => key + 1);
    }
  }
  return (
    <form key={formKey} onSubmit={create} noValidate aria-label="New expense" className="grid gap-3">
      <div className="grid items-start gap-3 sm:grid-cols-3 lg:grid-cols-[minmax(0,1fr)_minmax(0,1fr)_minmax(0,1fr)_auto]">
        <Field label="Amount" error={submit.fieldErrors.amount}>
          {(p) => (
            <Input {...p} name="amount" inputMode="decimal" autoComplete="off" required placeholder="e.g. 12.50" />
          )}
        </Field>
        <Field label="Category" error={submit.fieldErrors.category}>
          {(p) => <Input {...p} name="category" required maxLength={50} placeholder="e.g. food" />}
        </Field>
        <Field label="When" error={submit.fieldErrors.incurred_at}>
          {(p) => <Input {...p} name="incurred_at" type="datetime-local" required defaultValue={now} />}
        </Field>
        <Button type="submit" className="sm:col-span-3 lg:col-span-1 lg:mt-5" disabled={submit.pending}>
          {submit.pending ? "Adding…" : "Add expense"}
        </Button>
      </div>
      <FormError message={submit.formError} />
    </form>
  );
}

function ExpenseRow({ expense, onEdit, focusEdit }: { expense: Expense; onEdit: () => void; focusEdit: boolean }) {
  const name = `${showAmount(expense.amount)} on ${expense.category}`;
  return (
    <TableRow>
      <TableCell className="text-right font-medium tabular-nums">{showAmount(expense.amount)}</TableCell>
      <TableCell className="min-w-32">{expense.category}</TableCell>
      <TableCell className="whitespace-nowrap">{formatDateTime(expense.incurred_at)}</TableCell>
      <TableCell className="text-right whitespace-nowrap">
        <Button variant="ghost" size="sm" onClick={onEdit} autoFocus={focusEdit} aria-label={`Edit expense ${name}`}>
          Edit
        </Button>
        <DeleteButton path={`/api/expenses/${expense.id}`} name={name} kind="expense" />
      </TableCell>
    </TableRow>
  );
}

function ExpenseEditRow({ expense, onDone }: { expense: Expense; onDone: () => void }) {
  const formId = useId();
  const submit = useSubmit();
  const errors = submit.fieldErrors;
  async function save(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const body = expenseInput(new FormData(event.currentTarget));
    if (await submit.run(() => api<Expense>(`/api/expenses/${expense.id}`, { method: "PATCH", body }))) onDone();
  }
  return (
    <TableRow className="bg-muted/40" onKeyDown={cancelOnEscape(onDone)}>
      <TableCell>
        <CellInput
          form={formId}
          name="amount"
          label="Amount"
          inputMode="decimal"
          defaultValue={expense.amount}
          error={errors.amount}
          autoFocus
        />
      </TableCell>
      <TableCell>
        <CellInput
          form={formId}
          name="category"
          label="Category"
          defaultValue={expense.category}
          error={errors.category}
        />
      </TableCell>
      <TableCell>
        <CellInput
          form={formId}
          name="incurred_at"
          type="datetime-local"
          label="When"
          defaultValue={toLocalInput(expense.incurred_at)}
          error={errors.incurred_at}
        />
      </TableCell>
      <TableCell className="text-right">
        <form id={formId} onSubmit={save} noValidate className="flex justify-end gap-1">
          <Button type="submit" size="sm" disabled={submit.pending}>
            {submit.pending ? "Saving…" : "Save"}
          </Button>
          <Button variant="outline" size="sm" onClick={onDone}>
            Cancel
          </Button>
        </form>
        {submit.formError && (
          <p role="alert" className="mt-1 text-xs text-destructive">
            {submit.formError}
          </p>
        )}
      </TableCell>
    </TableRow>
  );
}

export function ExpensesTable() {
  const rows = useRowEditing();
  const list = useLiveList<Expense>("expenses.list", ARGS);
  return (
    <div className="grid gap-4">
      <CreateExpense />
      <Table aria-label="Expenses">
        <TableHeader>
          <TableRow>
            <TableHead className="text-right">Amount</TableHead>
            <TableHead>Category</TableHead>
            <TableHead>When</TableHead>
            <TableHead className="text-right">Actions</TableHead>
          </TableRow>
        </TableHeader>
        <TableBody>
          <ListStateRow list={list} columns={4} empty="No expenses yet." />
          {list.rows?.map((expense) =>
            rows.editing === expense.id ? (
              <ExpenseEditRow key={expense.id} expense={expense} onDone={rows.finish} />
            ) : (
              <ExpenseRow
                key={expense.id}
                expense={expense}
                onEdit={() => rows.start(expense.id)}
                focusEdit={rows.returnsFocus(expense.id)}
              />
            ),
          )}
        </TableBody>
      </Table>
      <LoadMore list={list} label="expenses" />
    </div>
  );
}
