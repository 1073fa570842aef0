// The react-query keys shared between pages and components.
export const investigationKey = (id: string) => ['investigation', id] as const;
export const investigationsKey = ['investigations'] as const;
export const eventsPageKey = (id: string, since: string | null) => ['events-page', id, since] as const;
