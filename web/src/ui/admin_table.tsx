// The Administration view's tables: a scrollable, focusable region labelled by the table's
// caption, with one row of column headers. `name` gives the table's class (`<name>-table`) and
// its caption's id (`<name>-caption`); the children are the body's rows.
import { ComponentChildren } from 'preact';

export function AdminTable({ name, caption, columns, children }: { name: string; caption: string; columns: string[]; children: ComponentChildren }) {
  return (
    <div class="table-wrap" role="region" aria-labelledby={`${name}-caption`} tabIndex={0}>
      <table class={`admin-table ${name}-table`}>
        <caption id={`${name}-caption`}>{caption}</caption>
        <thead>
          <tr>
            {columns.map((c) => (
              <th key={c} scope="col">
                {c}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>{children}</tbody>
      </table>
    </div>
  );
}
