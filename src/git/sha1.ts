// SHA-1 of a small buffer, for the id git gives a commit object git lab is about to write (commitSha). node:crypto
// costs ~3.5 ms to load, in a submit whose only hash is one commit of a few hundred bytes: this costs microseconds.
// Not for anything secret: git's object ids only (test/git/sha1.test.ts checks it against node:crypto).

export function sha1Hex(data: Uint8Array): string {
  const bits = data.length * 8
  // message + 0x80 + zeros + 64-bit length, a multiple of 64 bytes
  const total = (((data.length + 8) >> 6) + 1) << 6
  const m = new Uint8Array(total)
  m.set(data)
  m[data.length] = 0x80
  const view = new DataView(m.buffer)
  view.setUint32(total - 8, Math.floor(bits / 0x100000000))
  view.setUint32(total - 4, bits >>> 0)
  let h0 = 0x67452301, h1 = 0xefcdab89, h2 = 0x98badcfe, h3 = 0x10325476, h4 = 0xc3d2e1f0
  const w = new Uint32Array(80)
  for (let off = 0; off < total; off += 64) {
    for (let i = 0; i < 16; i++) w[i] = view.getUint32(off + i * 4)
    for (let i = 16; i < 80; i++) { const x = w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16]; w[i] = (x << 1) | (x >>> 31) }
    let a = h0, b = h1, c = h2, d = h3, e = h4
    for (let i = 0; i < 80; i++) {
      const f = i < 20 ? ((b & c) | (~b & d)) + 0x5a827999 : i < 40 ? (b ^ c ^ d) + 0x6ed9eba1
        : i < 60 ? ((b & c) | (b & d) | (c & d)) + 0x8f1bbcdc : (b ^ c ^ d) + 0xca62c1d6
      const t = (((a << 5) | (a >>> 27)) + f + e + w[i]) >>> 0
      e = d; d = c; c = (b << 30) | (b >>> 2); b = a; a = t
    }
    h0 = (h0 + a) >>> 0; h1 = (h1 + b) >>> 0; h2 = (h2 + c) >>> 0; h3 = (h3 + d) >>> 0; h4 = (h4 + e) >>> 0
  }
  return [h0, h1, h2, h3, h4].map(h => h.toString(16).padStart(8, '0')).join('')
}
