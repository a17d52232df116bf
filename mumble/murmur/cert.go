package murmur

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"time"
)

// ensureCertificate makes sure certPath and keyPath hold a self-signed
// certificate and its key, generating them if either is missing, and
// returns the certificate's DER encoding.
func ensureCertificate(certPath, keyPath string, writeFile func(string, []byte, os.FileMode) error) ([]byte, error) {
	certPEM, errC := os.ReadFile(certPath)
	_, errK := os.Stat(keyPath)
	if errC == nil && errK == nil {
		return CertificateFromPEM(certPEM)
	}
	if !errors.Is(errC, os.ErrNotExist) && errC != nil {
		return nil, fmt.Errorf("murmur: certificate: %w", errC)
	}
	// RSA: the Mumble 1.3 server's Qt loads RSA keys everywhere.
	key, err := rsa.GenerateKey(rand.Reader, 3072)
	if err != nil {
		return nil, fmt.Errorf("murmur: generate key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, fmt.Errorf("murmur: certificate serial: %w", err)
	}
	// No host name, no dates that tell when the room was made: a fixed,
	// generic subject and validity.
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "Mumble Server"},
		NotBefore:             time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC),
		NotAfter:              time.Date(2099, 12, 31, 0, 0, 0, 0, time.UTC),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("murmur: create certificate: %w", err)
	}
	keyDER := x509.MarshalPKCS1PrivateKey(key)
	if err := writeFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		return nil, fmt.Errorf("murmur: write key: %w", err)
	}
	if err := writeFile(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		return nil, fmt.Errorf("murmur: write certificate: %w", err)
	}
	return der, nil
}

// CertificateFromPEM returns the DER encoding of the certificate in a PEM
// file's contents (the server's certificate file, CertName).
func CertificateFromPEM(data []byte) ([]byte, error) {
	blk, _ := pem.Decode(data)
	if blk == nil || blk.Type != "CERTIFICATE" {
		return nil, errors.New("murmur: certificate file holds no PEM certificate")
	}
	if _, err := x509.ParseCertificate(blk.Bytes); err != nil {
		return nil, fmt.Errorf("murmur: certificate: %w", err)
	}
	return blk.Bytes, nil
}
