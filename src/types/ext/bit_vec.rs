//! `bit_vec::BitVec` as `bit` and `varbit` (feature `bit-vec`).

use ::bit_vec::BitVec;
use bytes::BytesMut;

use crate::types::bits::{decode_bits, encode_bits};
use crate::types::{FromSql, IsNull, ToSql, Type};
use crate::BoxError;

impl ToSql for BitVec {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        // `to_bytes` packs the first bit into the high-order bit and pads with zeros: the
        // server's layout.
        encode_bits(ty, self.len(), &self.to_bytes(), out)
    }

    fn accepts(ty: &Type) -> bool {
        crate::types::type_in!(ty, BIT, VARBIT)
    }

    crate::to_sql_checked!();
}

impl FromSql<'_> for BitVec {
    fn from_sql(ty: &Type, raw: &[u8]) -> Result<BitVec, BoxError> {
        let bits = decode_bits(ty, raw)?;
        let mut v = BitVec::from_bytes(bits.as_bytes());
        v.truncate(bits.len());
        Ok(v)
    }

    fn accepts(ty: &Type) -> bool {
        crate::types::type_in!(ty, BIT, VARBIT)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::tests::{decodes_exactly, vector};

    #[test]
    fn bit_vec_vectors() {
        let v = |s: &str| s.chars().map(|c| c == '1').collect::<BitVec>();
        vector(&Type::BIT, "bit_send(B'1010')", "00000004a0", v("1010"));
        vector(
            &Type::VARBIT,
            "varbit_send(B'101000001'::varbit)",
            "00000009a080",
            v("101000001"),
        );
        vector(
            &Type::VARBIT,
            "varbit_send(B''::varbit)",
            "00000000",
            BitVec::new(),
        );
        decodes_exactly::<BitVec>("bit_vec::BitVec", &[Type::BIT, Type::VARBIT]);
    }
}
