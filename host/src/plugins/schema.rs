//! The part of JSON Schema plugin init configs use: `type`, `properties`,
//! `required`, `additionalProperties`, `enum`, `minimum`/`maximum`,
//! `items`, `minLength`/`maxLength`. Errors name the path of the bad value.

use serde_json::Value;

/// Checks `v` against `schema`; the error names the offending path.
pub fn validate(schema: &Value, v: &Value, path: &str) -> Result<(), String> {
    let Some(s) = schema.as_object() else {
        return Ok(()); // `true` / `{}`-like schemas accept anything
    };
    if let Some(t) = s.get("type") {
        let types: Vec<&str> = match t {
            Value::String(x) => vec![x.as_str()],
            Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        if !types.is_empty() && !types.iter().any(|t| is_type(v, t)) {
            return Err(format!(
                "{path}: expected {}, got {}",
                types.join(" or "),
                type_name(v)
            ));
        }
    }
    if let Some(Value::Array(options)) = s.get("enum")
        && !options.contains(v)
    {
        return Err(format!(
            "{path}: {v} is not one of {}",
            Value::Array(options.clone())
        ));
    }
    if let Some(n) = v.as_f64() {
        if let Some(min) = s.get("minimum").and_then(Value::as_f64)
            && n < min
        {
            return Err(format!("{path}: {v} is less than the minimum {min}"));
        }
        if let Some(max) = s.get("maximum").and_then(Value::as_f64)
            && n > max
        {
            return Err(format!("{path}: {v} is more than the maximum {max}"));
        }
    }
    if let Some(text) = v.as_str() {
        let len = text.chars().count() as u64;
        if let Some(min) = s.get("minLength").and_then(Value::as_u64)
            && len < min
        {
            return Err(format!("{path}: shorter than {min} characters"));
        }
        if let Some(max) = s.get("maxLength").and_then(Value::as_u64)
            && len > max
        {
            return Err(format!("{path}: longer than {max} characters"));
        }
    }
    if let (Some(items), Some(arr)) = (s.get("items"), v.as_array()) {
        for (i, x) in arr.iter().enumerate() {
            validate(items, x, &format!("{path}[{i}]"))?;
        }
    }
    if let Some(obj) = v.as_object() {
        let props = s.get("properties").and_then(Value::as_object);
        if let Some(Value::Array(req)) = s.get("required") {
            for r in req.iter().filter_map(Value::as_str) {
                if !obj.contains_key(r) {
                    return Err(format!("{path}: missing required key '{r}'"));
                }
            }
        }
        for (k, x) in obj {
            match props.and_then(|p| p.get(k)) {
                Some(ps) => validate(ps, x, &format!("{path}.{k}"))?,
                None => match s.get("additionalProperties") {
                    Some(Value::Bool(false)) => {
                        return Err(format!("{path}: unknown key '{k}'"));
                    }
                    Some(extra @ Value::Object(_)) => validate(extra, x, &format!("{path}.{k}"))?,
                    _ => {}
                },
            }
        }
    }
    Ok(())
}

fn is_type(v: &Value, t: &str) -> bool {
    match t {
        "object" => v.is_object(),
        "array" => v.is_array(),
        "string" => v.is_string(),
        "boolean" => v.is_boolean(),
        "null" => v.is_null(),
        "number" => v.is_number(),
        "integer" => v.is_i64() || v.is_u64(),
        _ => true,
    }
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_f64() => "number",
        Value::Number(_) => "integer",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn checks_types_keys_and_ranges() {
        let s = json!({"type": "object", "additionalProperties": false,
            "required": ["region"],
            "properties": {"region": {"type": "string", "minLength": 1},
                           "workers": {"type": "integer", "minimum": 1, "maximum": 64},
                           "mode": {"enum": ["a", "b"]},
                           "hosts": {"type": "array", "items": {"type": "string"}}}});
        assert!(validate(&s, &json!({"region": "eu-west-1", "workers": 4}), "c").is_ok());
        let e = |v| validate(&s, &v, "c").unwrap_err();
        assert_eq!(e(json!({"workers": 4})), "c: missing required key 'region'");
        assert_eq!(
            e(json!({"region": "x", "nope": 1})),
            "c: unknown key 'nope'"
        );
        assert_eq!(
            e(json!({"region": "x", "workers": "4"})),
            "c.workers: expected integer, got string"
        );
        assert_eq!(
            e(json!({"region": "x", "workers": 100})),
            "c.workers: 100 is more than the maximum 64"
        );
        assert_eq!(
            e(json!({"region": "x", "mode": "c"})),
            "c.mode: \"c\" is not one of [\"a\",\"b\"]"
        );
        assert_eq!(
            e(json!({"region": "x", "hosts": ["a", 1]})),
            "c.hosts[1]: expected string, got integer"
        );
        assert_eq!(e(json!([])), "c: expected object, got array");
    }
}
