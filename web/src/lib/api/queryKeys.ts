// The react-query keys the features share: one feature's write refreshes another's reads (an
// action or a new investigation invalidates the list).
export const investigationKey = (id: string) => ['investigation', id] as const;
export const investigationsKey = ['investigations'] as const;
export const eventsPageKey = (id: string, since: string | null) => ['events-page', id, since] as const;
