//! How a step's value is compared with its expectation (`tests/conformance/README.md`, "Comparison").

use serde_json::Value;

/// Does `actual` match `expected`? Numbers within an absolute 1e-5, objects by the expected object's
/// keys (the actual one may carry more), lists in order (as multisets when `unordered`), anything else
/// by equality.
pub fn matches(expected: &Value, actual: &Value, unordered: bool) -> bool {
    match (expected, actual) {
        (Value::Number(e), Value::Number(a)) => {
            (e.as_f64().unwrap_or(f64::NAN) - a.as_f64().unwrap_or(f64::NAN)).abs() <= 1e-5
        }
        (Value::Object(e), Value::Object(a)) => e
            .iter()
            .all(|(k, v)| a.get(k).is_some_and(|av| matches(v, av, false))),
        (Value::Array(e), Value::Array(a)) => {
            if e.len() != a.len() {
                return false;
            }
            if unordered {
                let mut used = vec![false; a.len()];
                e.iter().all(|ev| {
                    (0..a.len()).any(|i| {
                        if !used[i] && matches(ev, &a[i], false) {
                            used[i] = true;
                            true
                        } else {
                            false
                        }
                    })
                })
            } else {
                e.iter().zip(a).all(|(ev, av)| matches(ev, av, false))
            }
        }
        (e, a) => e == a,
    }
}

#[cfg(test)]
mod tests {
    use super::matches;
    use serde_json::json;

    #[test]
    fn numbers_objects_and_lists() {
        assert!(matches(&json!(1.0), &json!(1.000001), false));
        assert!(!matches(&json!(1.0), &json!(1.001), false));
        assert!(matches(&json!({"a": 1}), &json!({"a": 1, "b": 2}), false));
        assert!(!matches(&json!({"a": 1, "b": 2}), &json!({"a": 1}), false));
        assert!(!matches(&json!([1, 2]), &json!([2, 1]), false));
        assert!(matches(&json!([1, 2]), &json!([2, 1]), true));
        assert!(!matches(&json!([1, 1]), &json!([1, 2]), true));
        assert!(matches(&json!(null), &json!(null), false));
        assert!(!matches(&json!(null), &json!(0), false));
    }
}
