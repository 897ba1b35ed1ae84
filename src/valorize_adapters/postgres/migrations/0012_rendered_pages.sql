-- Transaction list pages rendered as JSON by the database (valorize_core.representation is the
-- reference; the repository contract holds both equal). Helpers for the two formats that JSON
-- does not give for free: exact decimal amounts and RFC 3339 UTC instants.

-- "-12.34" from -1234 minor units and exponent 2, exactly as Money.to_decimal_string.
CREATE FUNCTION valorize_money_json(minor bigint, currency text, exponent integer) RETURNS json
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT json_build_object(
        'amount',
        CASE WHEN exponent = 0 THEN minor::text
        ELSE (CASE WHEN minor < 0 THEN '-' ELSE '' END)
             -- at least one digit before the point ("0.05"); lpad alone would cut longer numbers
             || left(lpad(abs(minor)::text, greatest(length(abs(minor)::text), exponent + 1), '0'), -exponent)
             || '.' || right(lpad(abs(minor)::text, greatest(length(abs(minor)::text), exponent + 1), '0'), exponent)
        END,
        'currency', currency)
$$;

-- 2026-01-02T03:04:05Z, or 2026-01-02T03:04:05.000120Z when there are microseconds.
CREATE FUNCTION valorize_instant(moment timestamptz) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT to_char(moment AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS')
           || CASE WHEN date_trunc('second', moment) = moment THEN ''
                   ELSE to_char(moment AT TIME ZONE 'UTC', '.US') END
           || 'Z'
$$;
