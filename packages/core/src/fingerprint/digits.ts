// Signal's displayable form: every 5 bytes of a digest, read as a 40-bit big-endian number modulo 100000,
// become a group of 5 decimal digits.

export function digitGroups(digest: Uint8Array, groups: number): readonly string[] {
  const out: string[] = [];
  for (let group = 0; group < groups; group++) {
    let value = 0;
    for (const byte of digest.subarray(group * 5, group * 5 + 5)) value = value * 256 + byte;
    out.push(String(value % 100_000).padStart(5, "0"));
  }
  return out;
}
