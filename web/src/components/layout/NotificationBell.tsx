/** Placeholder: the notifications menu (live `notifications.list`, "your turn") lands with
 * the reservations pages. */
export function NotificationBell() {
  return null;
}
