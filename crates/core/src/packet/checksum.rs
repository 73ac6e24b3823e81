//! Internet checksum arithmetic (RFC 1071) split so that a template's fixed part is summed
//! once and each probe only adds its variable words (RFC 1624's incremental update).

/// Adds the 16-bit big-endian words of `data` (odd tail padded with zero) to `sum`.
#[inline]
pub fn add_bytes(mut sum: u32, data: &[u8]) -> u32 {
    let mut chunks = data.chunks_exact(2);
    for c in &mut chunks {
        sum += u16::from_be_bytes([c[0], c[1]]) as u32;
    }
    if let [b] = chunks.remainder() {
        sum += (*b as u32) << 8;
    }
    sum
}

/// Adds a 32-bit value as two words.
#[inline]
pub fn add_u32(sum: u32, v: u32) -> u32 {
    sum + (v >> 16) + (v & 0xffff)
}

/// Folds the carries and complements: the value to store in a checksum field.
#[inline]
pub fn finish(mut sum: u32) -> u16 {
    while sum >> 16 != 0 {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_rfc1071_example() {
        // RFC 1071 section 3: words 0001 f203 f4f5 f6f7 sum to ddf2 (before complement)
        let data = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
        assert_eq!(finish(add_bytes(0, &data)), !0xddf2);
    }

    #[test]
    fn odd_length_pads_with_zero() {
        assert_eq!(add_bytes(0, &[0x12, 0x34, 0x56]), 0x1234 + 0x5600);
    }

    #[test]
    fn split_sums_equal_whole_sums() {
        let data: Vec<u8> = (0..40u8).map(|i| i.wrapping_mul(37)).collect();
        let whole = finish(add_bytes(0, &data));
        let split = finish(add_bytes(add_bytes(0, &data[..12]), &data[12..]));
        assert_eq!(whole, split);
        let v = u32::from_be_bytes([data[0], data[1], data[2], data[3]]);
        assert_eq!(finish(add_u32(add_bytes(0, &data[4..]), v)), whole);
    }
}
