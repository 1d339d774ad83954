import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { DOC, withDictionary } from '../../scripts/metric-dictionary.ts'
import { NETWORK_DESCRIPTORS, NETWORKS } from '../../core/metrics.ts'

describe('metric dictionary', () => {
  it('docs/metrics.md shows the dictionary as the code defines it (npm run docs:metrics)', () => {
    const doc = readFileSync(DOC, 'utf8')
    expect(withDictionary(doc)).toBe(doc)
  })

  it('gives every metric a source and a meaning', () => {
    for (const network of NETWORKS) {
      for (const [metric, definition] of Object.entries(NETWORK_DESCRIPTORS[network].metrics)) {
        expect(definition.source.length, `${network}.${metric}`).toBeGreaterThan(3)
        expect(definition.description.length, `${network}.${metric}`).toBeGreaterThan(3)
      }
    }
  })
})
