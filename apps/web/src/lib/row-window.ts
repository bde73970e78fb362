// Which rows of a long list are drawn: those in the scrolled viewport and a margin each side; the
// rest stand as two spacers of the same height, so the scrollbar and the rows' positions are as if
// all were there. A list of a thousand containers then draws some fifty rows, and a state change
// re-renders those only. Short lists are drawn whole (nothing to gain, and every row stays findable
// by the browser's own search). Pure.

/** Lists up to this many rows are drawn whole. */
export const WINDOW_FROM_ROWS = 150;
/** Rows drawn beyond each edge of the viewport, so that a scroll shows rows already there. */
export const OVERSCAN_ROWS = 20;

export interface RowWindow {
  /** first row drawn (flat index over every row of the list) */
  first: number;
  /** one past the last row drawn */
  end: number;
}

export function rowWindow(total: number, rowHeight: number, scrollTop: number, viewportHeight: number): RowWindow {
  if (total <= WINDOW_FROM_ROWS || rowHeight <= 0) return { first: 0, end: total };
  const end = Math.min(total, Math.ceil((scrollTop + viewportHeight) / rowHeight) + OVERSCAN_ROWS);
  const first = Math.max(0, Math.floor(scrollTop / rowHeight) - OVERSCAN_ROWS);
  // scrolled past the end (the list just shrank): the last rows, until the browser clamps the scroll
  if (first >= end) return { first: Math.max(0, total - Math.ceil(viewportHeight / rowHeight) - 2 * OVERSCAN_ROWS), end: total };
  return { first, end };
}

/** The scroll position that brings row `index` into a viewport from `scrollTop`, or undefined if it is in view. */
export function scrollToShow(index: number, rowHeight: number, scrollTop: number, viewportHeight: number, headerHeight = 0): number | undefined {
  const top = index * rowHeight;
  if (top < scrollTop) return top;
  const bottom = top + rowHeight + headerHeight;
  if (bottom > scrollTop + viewportHeight) return bottom - viewportHeight;
  return undefined;
}
