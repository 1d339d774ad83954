import { describe, expect, it } from 'vitest'
import { ApiError, ApiPagingError } from '../../core/errors.ts'
import { pageWalk } from '../../ingest/paging.ts'

/** How a caller names its calls (ingest/http.ts); the query is left out, as there. */
const api = { describe: (method: string, url: string) => `facebook ${method} /v25.0${url.split('?')[0]}` }

/** Walks an API whose every page has a next one, at the cursors `cursorAt` gives; counts the pages read. */
function walkEndless(maxPages: number, cursorAt: (page: number) => string | number): { pages: number; error: unknown } {
  const walk = pageWalk({ api, url: '/104729384756205/posts?fields=id&access_token=secret', maxPages })
  let pages = 0
  try {
    for (;;) {
      pages++
      walk.next(cursorAt(pages))
    }
  } catch (error) {
    return { pages, error }
  }
}

describe('pageWalk: every paged walk ends', () => {
  it('stops at its cap of pages with API_PAGING_ENDLESS, a permanent error naming the network, the endpoint and the cap', () => {
    const { pages, error } = walkEndless(400, (page) => `cursor-${page}`)
    expect(pages).toBe(400)
    expect(error).toBeInstanceOf(ApiPagingError)
    expect(error).toBeInstanceOf(ApiError)
    expect(error).toMatchObject({ code: 'API_PAGING_ENDLESS', retryable: false })
    expect((error as Error).message).toBe('facebook GET /v25.0/104729384756205/posts: still another page after 400 pages, the most this list can hold; the walk stopped there')
    expect((error as Error).message).not.toContain('secret')
  })

  it('stops at a cursor it has met before, without walking to the cap', () => {
    const { pages, error } = walkEndless(400, (page) => (page >= 3 ? 'same' : `cursor-${page}`))
    expect(pages).toBe(4)
    expect(error).toMatchObject({ code: 'API_PAGING_ENDLESS', retryable: false })
    expect((error as Error).message).toBe(
      'facebook GET /v25.0/104729384756205/posts: the API sent the same next-page cursor after page 4 as after page 3; the walk stopped there (it would go round for ever)',
    )
  })

  it('lets a list that ends within its cap end, offsets included', () => {
    const walk = pageWalk({ api, method: 'POST', url: '/properties/1:runReport', maxPages: 3 })
    expect(walk.next(10_000)).toBe(10_000)
    expect(walk.next(20_000)).toBe(20_000)
    expect(() => walk.next(30_000)).toThrow(/POST \/v25\.0\/properties\/1:runReport: still another page after 3 pages/)
  })

  it('refuses a cap that is not a positive whole number', () => {
    expect(() => pageWalk({ api, url: '/x', maxPages: 0 })).toThrow(TypeError)
  })
})
