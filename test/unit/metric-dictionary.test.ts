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

  it('makes a metric part only of a count of the same network, never of itself (a rate of the two is at most 100 %)', () => {
    for (const network of NETWORKS) {
      const metrics = NETWORK_DESCRIPTORS[network].metrics
      for (const [metric, definition] of Object.entries(metrics)) {
        if (definition.partOf === undefined) continue
        const whole = metrics[definition.partOf]
        expect(whole, `${network}.${metric}: partOf ${definition.partOf}`).toBeDefined()
        expect(definition.partOf, `${network}.${metric}`).not.toBe(metric)
        expect([definition.shape, whole!.shape].includes('gauge'), `${network}.${metric}: a level is part of nothing`).toBe(false)
        expect(definition.signed || whole!.signed, `${network}.${metric}: a count reported net of losses bounds nothing`).toBeFalsy()
      }
    }
  })
})
