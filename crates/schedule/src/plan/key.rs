//! [`RunKey`]: the identity of one block run — the block, and its child index in each fan-out
//! it runs within — and its text form `name` or `name[3]`, `name[3.0]`.

use std::fmt;
use std::str::FromStr;

/// One block run of a run: a block, and the index path of its dynamic ancestry (empty for a
/// block that runs once per run).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RunKey {
    /// Block name.
    pub block: String,
    /// Child index in each enclosing fan-out, outermost first.
    pub path: Vec<u32>,
}

impl RunKey {
    /// The single run of `block`.
    pub fn block(block: impl Into<String>) -> RunKey {
        RunKey {
            block: block.into(),
            path: Vec::new(),
        }
    }

    /// Child `path` of `block`.
    pub fn child(block: impl Into<String>, path: Vec<u32>) -> RunKey {
        RunKey {
            block: block.into(),
            path,
        }
    }

    /// Where its outputs live below a run's folder: `block` or `block/3.0`.
    pub fn storage_path(&self) -> String {
        if self.path.is_empty() {
            self.block.clone()
        } else {
            format!("{}/{}", self.block, self.dotted())
        }
    }

    fn dotted(&self) -> String {
        self.path
            .iter()
            .map(u32::to_string)
            .collect::<Vec<_>>()
            .join(".")
    }
}

impl fmt::Display for RunKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.block)
        } else {
            write!(f, "{}[{}]", self.block, self.dotted())
        }
    }
}

/// A run key's text is not `name` or `name[i.j…]`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a block run key (`name` or `name[3]`, `name[3.0]`)")]
pub struct BadRunKey(pub String);

impl FromStr for RunKey {
    type Err = BadRunKey;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || BadRunKey(s.to_string());
        let Some(open) = s.find('[') else {
            return Ok(RunKey::block(s));
        };
        let inner = s[open + 1..].strip_suffix(']').ok_or_else(bad)?;
        let path = inner
            .split('.')
            .map(|p| p.parse::<u32>().map_err(|_| bad()))
            .collect::<Result<Vec<_>, _>>()?;
        if open == 0 {
            return Err(bad());
        }
        Ok(RunKey::child(&s[..open], path))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_read_back_what_they_print() {
        for text in ["load", "clean[0]", "clean[12.3]", "a_b[4294967295]"] {
            let key: RunKey = text.parse().unwrap();
            assert_eq!(key.to_string(), text);
        }
        assert_eq!("c[2.1]".parse::<RunKey>().unwrap().path, [2, 1]);
        assert_eq!("c[2.1]".parse::<RunKey>().unwrap().storage_path(), "c/2.1");
        for bad in ["c[", "c[]", "c[1.x]", "[1]", "c[1]x", "c[-1]"] {
            assert!(bad.parse::<RunKey>().is_err(), "{bad}");
        }
    }
}
