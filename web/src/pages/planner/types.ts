/** The planner's API shapes (src/everything_app/planner/schemas.py): ids are UUIDs, times
 * ISO 8601 in UTC, amounts decimal strings. */

interface Owned {
  id: string;
  created_at: string;
  updated_at: string;
}

export interface PlannerEvent extends Owned {
  title: string;
  description: string | null;
  start_time: string;
  end_time: string;
}

export interface Task extends Owned {
  title: string;
  is_complete: boolean;
  due_date: string | null;
}

export interface Expense extends Owned {
  amount: string;
  category: string;
  incurred_at: string;
}

export interface EventInput {
  title: string;
  description: string | null;
  start_time: string;
  end_time: string;
}

export interface TaskInput {
  title: string;
  due_date: string | null;
  is_complete?: boolean;
}

export interface ExpenseInput {
  amount: string;
  category: string;
  incurred_at: string;
}
