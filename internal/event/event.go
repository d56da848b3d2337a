package event

import "time"

// Types of Segment calls.
const (
	Identify = "identify"
	Track    = "track"
	Page     = "page"
	Screen   = "screen"
	Group    = "group"
	Alias    = "alias"
)

// ValidType reports whether t is one of the six Segment call types.
func ValidType(t string) bool {
	switch t {
	case Identify, Track, Page, Screen, Group, Alias:
		return true
	}
	return false
}

// Flags record what ingestion did to an event.
type Flags int

const (
	FlagServerMessageID Flags = 1 << iota // the client sent no messageId; the server made one
	FlagClamped                           // the time was too far in the future and was set to receivedAt
	FlagBadTimestamp                      // the client's timestamp could not be read; receivedAt was used
	FlagSanitized                         // invalid UTF-8 or NUL characters were replaced in the payload
	FlagSkewCorrected                     // the time was corrected with sentAt
	FlagBatchContext                      // batch-level context or integrations were merged in
)

// Event is an accepted event, as appended to the log.
type Event struct {
	Seq               int64 // set once stored
	SourceID          string
	MessageID         string
	Type              string
	Name              string // track event name, page or screen name
	UserID            string
	AnonymousID       string
	PreviousID        string // alias only
	GroupID           string // group only
	Timestamp         time.Time
	ReceivedAt        time.Time
	SentAt            time.Time // zero when the client sent none
	OriginalTimestamp string    // as the client sent it
	Flags             Flags
	Payload           []byte // the event JSON (as received, unless sanitised or merged)
	Raw               []byte // the bytes as received, when Payload differs from them
}

// Reason says why an event was quarantined.
type Reason string

// Quarantine reasons.
const (
	NotAnObject       Reason = "not_an_object"
	TooLarge          Reason = "too_large"
	DuplicateKey      Reason = "duplicate_key"
	AmbiguousKey      Reason = "ambiguous_key"
	TooDeep           Reason = "too_deep"
	TooManyKeys       Reason = "too_many_keys"
	KeyTooLong        Reason = "key_too_long"
	NumberOutOfRange  Reason = "number_out_of_range"
	InvalidIdentifier Reason = "invalid_identifier"
	InvalidField      Reason = "invalid_field"
	UnknownType       Reason = "unknown_type"
	NoIdentity        Reason = "no_identity"
	MissingEvent      Reason = "missing_event"
	MissingPreviousID Reason = "missing_previous_id"
	MissingGroupID    Reason = "missing_group_id"
)

// Quarantined is an event that could not be accepted, kept with its reason.
type Quarantined struct {
	Index     int // position in the request's batch
	MessageID string
	Type      string
	Reason    Reason
	Detail    string
	Raw       []byte
}

// Limits bound what one request and one event may hold.
type Limits struct {
	MaxEventBytes  int // per event, and the whole body of a single-event call
	MaxBatchBytes  int // the whole (decompressed) body of /v1/batch
	MaxBatchEvents int
	MaxDepth       int // nesting of objects and arrays within an event
	MaxKeys        int // members of one object
	MaxKeyBytes    int
	MaxIDBytes     int // messageId, userId, anonymousId…
	MaxFuture      time.Duration
}

// DefaultLimits are Segment's: 32 KB an event, 500 KB a batch.
func DefaultLimits() Limits {
	return Limits{
		MaxEventBytes:  32 << 10,
		MaxBatchBytes:  500 << 10,
		MaxBatchEvents: 5000,
		MaxDepth:       32,
		MaxKeys:        1000,
		MaxKeyBytes:    255,
		MaxIDBytes:     255,
		MaxFuture:      24 * time.Hour,
	}
}
