/**
 * Seeded, stateless randomness: every draw is a hash of the seed and a label, so a value depends
 * only on what it describes (page, day, post), never on how many draws came before it.
 */

/** cyrb53: a well-mixed 53-bit string hash, stable across runs and platforms. */
function hash53(text: string): number {
  let h1 = 0xdeadbeef
  let h2 = 0x41c6ce57
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i)
    h1 = Math.imul(h1 ^ ch, 2654435761)
    h2 = Math.imul(h2 ^ ch, 1597334677)
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507)
  h1 ^= Math.imul(h2 ^ (h2 >>> 13), 3266489909)
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507)
  h2 ^= Math.imul(h1 ^ (h1 >>> 13), 3266489909)
  return 4294967296 * (2097151 & h2) + (h1 >>> 0)
}

/** A uniform number in [0, 1) named by the seed and the parts. */
export function unit(seed: number, ...parts: ReadonlyArray<string | number>): number {
  return hash53(`${seed}|${parts.join('|')}`) / 2 ** 53
}

/** An integer in [min, max] named by the seed and the parts. */
export function intBetween(min: number, max: number, seed: number, ...parts: ReadonlyArray<string | number>): number {
  return min + Math.floor(unit(seed, ...parts) * (max - min + 1))
}

const ID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-'

/** A random-looking id (like Graph's fbtrace_id) that is a pure function of its inputs. */
export function opaqueId(length: number, seed: number, ...parts: ReadonlyArray<string | number>): string {
  let out = ''
  for (let i = 0; out.length < length; i++) {
    let n = hash53(`${seed}|${parts.join('|')}|${i}`)
    for (let j = 0; j < 8 && out.length < length; j++) {
      out += ID_ALPHABET[n % 64]
      n = Math.floor(n / 64)
    }
  }
  return out
}

/**
 * A smooth daily wobble in [-1, 1] for one id, linear between seeded values at whole days. Every
 * simulated network's follower curve is steady growth plus this, so growth never looks machine-made.
 */
export function dailyWobble(seed: number, id: string, days: number, label = 'wobble'): number {
  const k = Math.floor(days)
  const a = 2 * unit(seed, id, label, k) - 1
  const b = 2 * unit(seed, id, label, k + 1) - 1
  return a + (b - a) * (days - k)
}
