package app

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"golang.org/x/crypto/chacha20poly1305"
	"golang.org/x/crypto/scrypt"

	"github.com/tumble-voip/tumble/mumble"
	"github.com/tumble-voip/tumble/tor"
	"github.com/tumble-voip/tumble/tor/atomicfile"
)

// A bookmark file carries one bookmark with its client certificate (the
// identity a registered user is known by), encrypted with a passphrase,
// so that it can be kept elsewhere (a vault VM) and imported into a
// disposable one. Format, version 1, JSON:
//
//	{"format": "tumble-bookmark", "version": 1,
//	 "kdf": "scrypt", "n": 32768, "r": 8, "p": 1, "salt": "<16 bytes>",
//	 "nonce": "<24 bytes>", "ciphertext": "<...>"}
//
// The key is scrypt(passphrase, salt, n, r, p) (32 bytes); the ciphertext
// is XChaCha20-Poly1305 over the JSON of the bookmark, with the header
// (everything but nonce and ciphertext, as JSON) as additional data, so
// that no parameter can be changed unnoticed. Binary fields are base64
// (encoding/json's []byte). The isolation credentials are not exported:
// an imported bookmark gets fresh ones.
const (
	bookmarkFileFormat  = "tumble-bookmark"
	bookmarkFileVersion = 1
	// BookmarkFileExt is the usual file name extension.
	BookmarkFileExt = ".tumble-bookmark"
)

// scrypt parameters for new files (RFC 7914's interactive choice: about
// 100 ms) and the most a file may ask for (a hostile file must not make
// the import use gigabytes).
const (
	scryptN, scryptR, scryptP = 1 << 15, 8, 1
	maxScryptN                = 1 << 20
	maxScryptRP               = 64
	maxBookmarkFile           = 1 << 20
)

// ErrWrongPassphrase is returned when a bookmark file cannot be opened
// with the passphrase given (or was changed).
var ErrWrongPassphrase = errors.New("app: wrong passphrase, or the file was changed")

// ErrEmptyPassphrase is returned for an empty passphrase.
var ErrEmptyPassphrase = errors.New("app: choose a passphrase")

// bookmarkFileHeader is the authenticated, unencrypted part of the file.
type bookmarkFileHeader struct {
	Format  string `json:"format"`
	Version int    `json:"version"`
	KDF     string `json:"kdf"`
	N       int    `json:"n"`
	R       int    `json:"r"`
	P       int    `json:"p"`
	Salt    []byte `json:"salt"`
}

type bookmarkFile struct {
	bookmarkFileHeader
	Nonce      []byte `json:"nonce"`
	Ciphertext []byte `json:"ciphertext"`
}

// exportedBookmark is what the file holds of a bookmark.
type exportedBookmark struct {
	Label             string             `json:"label,omitempty"`
	Address           string             `json:"address"`
	Port              int                `json:"port"`
	Username          string             `json:"username"`
	Password          string             `json:"password,omitempty"`
	ClientAuthKey     tor.ClientAuthKey  `json:"client_auth_key,omitzero"`
	Identity          Identity           `json:"identity"`
	PinnedFingerprint mumble.Fingerprint `json:"pinned_fingerprint,omitzero"`
	Channel           []string           `json:"channel,omitempty"`
	// RoomKeys: the encrypted rooms' identity and known members go
	// along, so members do not see a changed key on the new device.
	RoomKeys RoomKeys `json:"room_keys,omitzero"`
}

// EncryptBookmark returns b with its identity as a bookmark file
// protected by passphrase.
func EncryptBookmark(b Bookmark, passphrase string) ([]byte, error) {
	if passphrase == "" {
		return nil, ErrEmptyPassphrase
	}
	plain, err := json.Marshal(exportedBookmark{
		Label: b.Label, Address: b.Address, Port: b.Port, Username: b.Username, Password: b.Password,
		ClientAuthKey: b.ClientAuthKey, Identity: b.Identity, PinnedFingerprint: b.PinnedFingerprint,
		Channel: b.Channel, RoomKeys: b.RoomKeys,
	})
	if err != nil {
		return nil, fmt.Errorf("app: export bookmark: %w", err)
	}
	h := bookmarkFileHeader{Format: bookmarkFileFormat, Version: bookmarkFileVersion, KDF: "scrypt",
		N: scryptN, R: scryptR, P: scryptP, Salt: make([]byte, 16)}
	f := bookmarkFile{bookmarkFileHeader: h, Nonce: make([]byte, chacha20poly1305.NonceSizeX)}
	if _, err := rand.Read(f.Salt); err != nil {
		return nil, fmt.Errorf("app: export bookmark: %w", err)
	}
	if _, err := rand.Read(f.Nonce); err != nil {
		return nil, fmt.Errorf("app: export bookmark: %w", err)
	}
	aead, ad, err := bookmarkFileCipher(f.bookmarkFileHeader, passphrase)
	if err != nil {
		return nil, err
	}
	f.Ciphertext = aead.Seal(nil, f.Nonce, plain, ad)
	out, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("app: export bookmark: %w", err)
	}
	return append(out, '\n'), nil
}

// DecryptBookmark opens a bookmark file with passphrase. The bookmark
// returned has no ID and no isolation credentials (saving it adds it with
// fresh ones). A wrong passphrase is ErrWrongPassphrase; a file that is
// not a bookmark file, or of a later version, is a clear error.
func DecryptBookmark(data []byte, passphrase string) (Bookmark, error) {
	if len(data) > maxBookmarkFile {
		return Bookmark{}, fmt.Errorf("app: not a Tumble bookmark file (%d bytes, too large)", len(data))
	}
	var f bookmarkFile
	if err := json.Unmarshal(data, &f); err != nil || f.Format != bookmarkFileFormat {
		return Bookmark{}, errors.New("app: not a Tumble bookmark file")
	}
	if f.Version != bookmarkFileVersion {
		return Bookmark{}, fmt.Errorf("app: bookmark file version %d; this Tumble reads version %d (update Tumble)",
			f.Version, bookmarkFileVersion)
	}
	if f.KDF != "scrypt" || f.N < 2 || f.N > maxScryptN || f.N&(f.N-1) != 0 ||
		f.R < 1 || f.R > maxScryptRP || f.P < 1 || f.P > maxScryptRP || len(f.Salt) < 16 ||
		len(f.Nonce) != chacha20poly1305.NonceSizeX {
		return Bookmark{}, errors.New("app: the bookmark file's parameters are invalid")
	}
	if passphrase == "" {
		return Bookmark{}, ErrEmptyPassphrase
	}
	aead, ad, err := bookmarkFileCipher(f.bookmarkFileHeader, passphrase)
	if err != nil {
		return Bookmark{}, err
	}
	plain, err := aead.Open(nil, f.Nonce, f.Ciphertext, ad)
	if err != nil {
		return Bookmark{}, ErrWrongPassphrase
	}
	var e exportedBookmark
	if err := json.Unmarshal(plain, &e); err != nil {
		return Bookmark{}, fmt.Errorf("app: bookmark file content: %w", err)
	}
	b := Bookmark{Label: e.Label, Address: e.Address, Port: e.Port, Username: e.Username, Password: e.Password,
		ClientAuthKey: e.ClientAuthKey, Identity: e.Identity, PinnedFingerprint: e.PinnedFingerprint, Channel: e.Channel,
		RoomKeys: e.RoomKeys}
	if _, err := b.Identity.TLSCertificate(); err != nil {
		return Bookmark{}, fmt.Errorf("app: bookmark file: %w", err)
	}
	if err := b.RoomKeys.validate(); err != nil {
		return Bookmark{}, fmt.Errorf("app: bookmark file: room keys: %w", err)
	}
	return b, nil
}

// bookmarkFileCipher derives the key and returns the AEAD and the
// additional data for header h.
func bookmarkFileCipher(h bookmarkFileHeader, passphrase string) (aeadCipher, []byte, error) {
	key, err := scrypt.Key([]byte(passphrase), h.Salt, h.N, h.R, h.P, chacha20poly1305.KeySize)
	if err != nil {
		return nil, nil, fmt.Errorf("app: bookmark file key: %w", err)
	}
	aead, err := chacha20poly1305.NewX(key)
	if err != nil {
		return nil, nil, fmt.Errorf("app: bookmark file cipher: %w", err)
	}
	ad, err := json.Marshal(h)
	if err != nil {
		return nil, nil, fmt.Errorf("app: bookmark file header: %w", err)
	}
	return aead, ad, nil
}

// aeadCipher is the part of cipher.AEAD used here.
type aeadCipher interface {
	Seal(dst, nonce, plaintext, additionalData []byte) []byte
	Open(dst, nonce, ciphertext, additionalData []byte) ([]byte, error)
}

// ExportBookmark writes the bookmark with the given ID and its client
// certificate to path (atomically, mode 0600), protected by passphrase.
// It writes to disk even in amnesic mode: the user asked for the file.
func (c *Controller) ExportBookmark(id, path, passphrase string) error {
	b, err := c.store.Get(id)
	if err != nil {
		return err
	}
	data, err := EncryptBookmark(b, passphrase)
	if err != nil {
		return err
	}
	if err := atomicfile.Write(path, data, 0o600); err != nil {
		return fmt.Errorf("app: export bookmark: %w", err)
	}
	return nil
}

// ImportBookmark adds the bookmark in a bookmark file (see
// EncryptBookmark), with its client certificate and fresh isolation
// credentials, and returns it.
func (c *Controller) ImportBookmark(data []byte, passphrase string) (Bookmark, error) {
	b, err := DecryptBookmark(data, passphrase)
	if err != nil {
		return Bookmark{}, err
	}
	return c.SaveBookmark(b)
}

// ImportBookmarkFile reads path and imports it (ImportBookmark).
func (c *Controller) ImportBookmarkFile(path, passphrase string) (Bookmark, error) {
	data, err := readLimited(path, maxBookmarkFile)
	if err != nil {
		return Bookmark{}, err
	}
	return c.ImportBookmark(data, passphrase)
}

// readLimited reads a file of at most max bytes.
func readLimited(path string, max int64) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("app: %w", err)
	}
	if fi.Size() > max {
		return nil, fmt.Errorf("app: %s is too large for a bookmark file", path)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("app: %w", err)
	}
	return data, nil
}
