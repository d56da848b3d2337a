package auth

import (
	"bytes"
	"encoding/json"
	"io"
	"regexp"
	"strings"
)

// MaskIdentifier masks the value of an identifier of type "email" or
// "phone" and returns other values as they are.
func MaskIdentifier(typ, value string) string {
	switch typ {
	case "email":
		return MaskEmail(value)
	case "phone":
		return MaskPhone(value)
	}
	return value
}

// contactKind says whether an object key names contact details: keys
// holding "email" or "e-mail" mask as e-mails, keys holding "phone" or
// "mobile" as phone numbers (case-insensitively: "email", "Email",
// "billing_phone", "phone_number"…).
func contactKind(key string) string {
	k := strings.ToLower(key)
	switch {
	case strings.Contains(k, "email") || strings.Contains(k, "e-mail"):
		return "email"
	case strings.Contains(k, "phone") || strings.Contains(k, "mobile"):
		return "phone"
	}
	return ""
}

// emailInText finds e-mail addresses within any text (a user id that is
// one, a note that quotes one).
var emailInText = regexp.MustCompile(`[^\s@<>()\[\]{},;:"'/\\]+@[^\s@<>()\[\]{},;:"'/\\]+\.[^\s@<>()\[\]{},;:"'/\\]+`)

// maskEmailsIn masks the e-mail addresses found in s.
func maskEmailsIn(s string) string {
	if !strings.Contains(s, "@") {
		return s
	}
	return emailInText.ReplaceAllStringFunc(s, func(m string) string {
		trimmed := strings.TrimRight(m, ".") // a sentence's full stop
		return MaskEmail(trimmed) + m[len(trimmed):]
	})
}

// MaskJSON masks the contact details in a JSON document, at any depth:
//   - string values of keys naming an e-mail or a phone ("email", "phone",
//     "billing_phone", "Email"…), whole arrays of them included;
//   - "value" and "original" of objects whose "type" is "email" or "phone"
//     (identities, identifiers of merges, identity decisions);
//   - e-mail addresses within any other string.
//
// Key order, numbers and everything else are kept. Input that is not JSON
// comes back as null: nothing of it is shown.
func MaskJSON(raw []byte) []byte {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	v, err := decodeOrdered(dec)
	if err == nil {
		if _, err2 := dec.Token(); err2 != io.EOF {
			err = io.ErrUnexpectedEOF // trailing data
		}
	}
	if err != nil {
		return []byte("null")
	}
	v = maskValue(v, "")
	var buf bytes.Buffer
	writeOrdered(&buf, v)
	return buf.Bytes()
}

// object is a JSON object with its keys in their order.
type object []member

type member struct {
	key string
	val any // object, []any, string, json.Number, bool or nil
}

func decodeOrdered(dec *json.Decoder) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			obj := object{}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				k, _ := kt.(string)
				v, err := decodeOrdered(dec)
				if err != nil {
					return nil, err
				}
				obj = append(obj, member{k, v})
			}
			_, err := dec.Token() // '}'
			return obj, err
		case '[':
			arr := []any{}
			for dec.More() {
				v, err := decodeOrdered(dec)
				if err != nil {
					return nil, err
				}
				arr = append(arr, v)
			}
			_, err := dec.Token() // ']'
			return arr, err
		}
		return nil, io.ErrUnexpectedEOF
	default:
		return t, nil
	}
}

// maskValue masks v; kind is "email" or "phone" when v sits under a key
// naming contact details.
func maskValue(v any, kind string) any {
	switch x := v.(type) {
	case string:
		switch {
		case kind == "email":
			return MaskEmail(x)
		case kind == "phone":
			return MaskPhone(x)
		}
		return maskEmailsIn(x)
	case []any:
		for i := range x {
			x[i] = maskValue(x[i], kind)
		}
		return x
	case object:
		typ := ""
		for _, m := range x {
			if m.key == "type" {
				if s, ok := m.val.(string); ok && (s == "email" || s == "phone") {
					typ = s
				}
			}
		}
		for i, m := range x {
			k := contactKind(m.key)
			if typ != "" && (m.key == "value" || m.key == "original") {
				k = typ
			}
			x[i].val = maskValue(m.val, k)
		}
		return x
	}
	return v
}

func writeOrdered(buf *bytes.Buffer, v any) {
	switch x := v.(type) {
	case object:
		buf.WriteByte('{')
		for i, m := range x {
			if i > 0 {
				buf.WriteByte(',')
			}
			writeString(buf, m.key)
			buf.WriteByte(':')
			writeOrdered(buf, m.val)
		}
		buf.WriteByte('}')
	case []any:
		buf.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				buf.WriteByte(',')
			}
			writeOrdered(buf, e)
		}
		buf.WriteByte(']')
	case string:
		writeString(buf, x)
	case json.Number:
		buf.WriteString(x.String())
	case bool:
		if x {
			buf.WriteString("true")
		} else {
			buf.WriteString("false")
		}
	default:
		buf.WriteString("null")
	}
}

func writeString(buf *bytes.Buffer, s string) {
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	buf.Truncate(buf.Len() - 1) // the encoder's newline
}

// LooksLikeContact reports whether a search text holds an e-mail address or
// a phone number (an @, or five digits or more): searching by one tells
// whether that person is a customer, so it needs CustomersPII.
func LooksLikeContact(q string) bool {
	digits := 0
	for _, r := range q {
		if r >= '0' && r <= '9' {
			digits++
		}
	}
	return strings.Contains(q, "@") || digits >= 5
}
