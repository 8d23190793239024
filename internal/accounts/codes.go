package accounts

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/bkpsdm/seleksi/internal/store"
)

// One-time codes. A code reaches its owner by e-mail (confirm an address, reset or set a
// password) or, for the first start's setup code, in the log of the process that issued it.
// The store keeps only a salted SHA-256 of the code with its purpose; a code is compared in
// constant time, used once, valid for a limited time, and void after MaxCodeAttempts wrong
// attempts. The codes sent by e-mail are six digits, which people type from a phone; the
// setup code is long, since whoever reaches the service first could guess at it.

// newDigitCode returns six random decimal digits.
func newDigitCode() string {
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		panic(fmt.Sprintf("accounts: crypto/rand: %v", err)) // crypto/rand does not fail (Go 1.24+)
	}
	return fmt.Sprintf("%06d", n.Int64())
}

// newSetupCode returns 26 random base32 characters (128 bits), grouped by five for reading.
func newSetupCode() string {
	raw := rand.Text()
	var b strings.Builder
	for i := 0; i < len(raw); i += 5 {
		if i > 0 {
			b.WriteByte('-')
		}
		b.WriteString(raw[i:min(i+5, len(raw))])
	}
	return b.String()
}

// normalizeCode removes what people add when they type a code (spaces, hyphens) and
// upper-cases it.
func normalizeCode(code string) string {
	return strings.ToUpper(strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' || r == '\t' {
			return -1
		}
		return r
	}, code))
}

// wellFormed reports whether code can be a code of the purpose at all; a malformed code
// costs no attempt.
func wellFormed(purpose, code string) bool {
	if purpose == store.CodeSetup {
		return len(code) == 26
	}
	if len(code) != 6 {
		return false
	}
	for i := range len(code) {
		if code[i] < '0' || code[i] > '9' {
			return false
		}
	}
	return true
}

func newSalt() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// codeHash is the stored form of a code.
func codeHash(purpose, salt, code string) string {
	h := sha256.Sum256([]byte(salt + "\x00" + purpose + "\x00" + code))
	return hex.EncodeToString(h[:])
}

// matcher compares the (normalised) code given with a stored salt and hash in constant time.
func matcher(purpose, code string) func(salt, hash string) bool {
	return func(salt, hash string) bool {
		return subtle.ConstantTimeCompare([]byte(codeHash(purpose, salt, code)), []byte(hash)) == 1
	}
}

// newCode makes a code of the purpose for an account, and its notice (nil when msg is
// empty): the e-mail message that carries the code, and how many minutes it is valid.
func newCode(accountID, purpose, msg, email string, now time.Time, ttl time.Duration) (store.AccountCode, string) {
	code := newDigitCode()
	if purpose == store.CodeSetup {
		code = newSetupCode()
	}
	salt := newSalt()
	c := store.AccountCode{AccountID: accountID, Purpose: purpose, Salt: salt, Hash: codeHash(purpose, salt, normalizeCode(code)),
		ExpiresAt: now.Add(ttl)}
	if msg != "" {
		c.Notice = &store.AccountNotice{Email: email, Message: store.Text{Code: msg,
			Params: map[string]string{"code": code, "minutes": strconv.Itoa(int(ttl.Minutes()))}}}
	}
	return c, code
}
