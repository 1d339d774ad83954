import { ApiPagingError } from '../core/errors.ts'
import type { ApiCaller } from './http.ts'

/**
 * Every paged walk of every collector is bounded here: it ends when the API says so, and fails
 * with ApiPagingError (API_PAGING_ENDLESS) when the API would have it go on for ever: still a next
 * page at the walk's cap, or a next-page cursor it has already sent. Each walk's cap is the most
 * pages its list can legitimately have, worked out where the walk is (from the API's page size,
 * its documented limits and our windows), so a big account never reaches it.
 *
 * The error is permanent for the round (the same walk would go the same way): the job is not
 * retried, the account is recorded failing (or, for a part that serves some metrics only, the
 * part is skipped as refused), and what the pages read gave stays stored.
 *
 * None of our lists legitimately repeats a cursor (Instagram's hashtag search does, and is not
 * one of them); offset walks (LinkedIn, GA4) pass the offset they ask for next.
 */
export interface PageWalk {
  /**
   * Call after a page that has a next one, with that page's cursor (or offset); returns it. Throws
   * ApiPagingError when the walk has read its cap of pages, or when the cursor came before.
   */
  next<C extends string | number>(cursor: C): C
}

export function pageWalk(options: {
  /** The caller the walk reads with: the error names its network and the endpoint as its errors do. */
  api: Pick<ApiCaller, 'describe'>
  method?: 'GET' | 'POST'
  /** The path asked (a query in it is left out of messages). */
  url: string
  /** The most pages the list can hold; say why where the walk is. */
  maxPages: number
}): PageWalk {
  const { api, method = 'GET', url, maxPages } = options
  if (!Number.isInteger(maxPages) || maxPages < 1) throw new TypeError(`maxPages must be a positive integer, not ${maxPages}`)
  /** Each cursor met, with the page it came after. */
  const seen = new Map<string | number, number>()
  let pages = 1
  return {
    next(cursor) {
      const call = api.describe(method, url)
      const first = seen.get(cursor)
      if (first !== undefined) {
        throw new ApiPagingError(`${call}: the API sent the same next-page cursor after page ${pages} as after page ${first}; the walk stopped there (it would go round for ever)`)
      }
      if (pages >= maxPages) throw new ApiPagingError(`${call}: still another page after ${maxPages} pages, the most this list can hold; the walk stopped there`)
      seen.set(cursor, pages)
      pages++
      return cursor
    },
  }
}
