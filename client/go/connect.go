package main

// The dial options of a connection to fivetran-gateway, from the environment
// (the same variables as the Python and Node.js examples):
//
//	FIVETRAN_GATEWAY_CA_FILE      TLS, trusting the CAs in this PEM file
//	FIVETRAN_GATEWAY_TLS=1        TLS, trusting the system's CAs
//	FIVETRAN_GATEWAY_CERT, FIVETRAN_GATEWAY_KEY
//	                              client certificate and key (PEM) for mutual TLS
//	FIVETRAN_GATEWAY_SERVER_NAME  name to expect in the gateway's certificate
//	FIVETRAN_GATEWAY_TOKEN        bearer token, else
//	FIVETRAN_GATEWAY_TOKEN_FILE   a file holding it
//
// Without TLS settings the connection is plaintext (meant for loopback).

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io/ioutil"
	"os"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
)

// bearerToken sends "authorization: Bearer TOKEN" with every call.
type bearerToken struct {
	token  string
	secure bool
}

func (b bearerToken) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": "Bearer " + b.token}, nil
}

// RequireTransportSecurity: over TLS, gRPC refuses to send the token on a
// plaintext connection.
func (b bearerToken) RequireTransportSecurity() bool { return b.secure }

func tokenFromEnv() (string, error) {
	token := os.Getenv("FIVETRAN_GATEWAY_TOKEN")
	if file := os.Getenv("FIVETRAN_GATEWAY_TOKEN_FILE"); token == "" && file != "" {
		b, err := ioutil.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("$FIVETRAN_GATEWAY_TOKEN_FILE: %v", err)
		}
		token = string(b)
	}
	token = strings.TrimSpace(token)
	if strings.ContainsAny(token, " \t\r\n") {
		return "", errors.New("the gateway token must be one word of printable ASCII")
	}
	return token, nil
}

func tlsConfigFromEnv() (*tls.Config, error) {
	ca, cert, key := os.Getenv("FIVETRAN_GATEWAY_CA_FILE"), os.Getenv("FIVETRAN_GATEWAY_CERT"), os.Getenv("FIVETRAN_GATEWAY_KEY")
	if (cert == "") != (key == "") {
		return nil, errors.New("FIVETRAN_GATEWAY_CERT and FIVETRAN_GATEWAY_KEY go together")
	}
	switch strings.ToLower(os.Getenv("FIVETRAN_GATEWAY_TLS")) {
	case "1", "true", "yes", "on":
	default:
		if ca == "" && cert == "" {
			if os.Getenv("FIVETRAN_GATEWAY_SERVER_NAME") != "" {
				return nil, errors.New("FIVETRAN_GATEWAY_SERVER_NAME needs TLS")
			}
			return nil, nil
		}
	}
	config := &tls.Config{ServerName: os.Getenv("FIVETRAN_GATEWAY_SERVER_NAME")}
	if ca != "" {
		pem, err := ioutil.ReadFile(ca)
		if err != nil {
			return nil, fmt.Errorf("$FIVETRAN_GATEWAY_CA_FILE: %v", err)
		}
		config.RootCAs = x509.NewCertPool()
		if !config.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("$FIVETRAN_GATEWAY_CA_FILE: %s holds no PEM certificate", ca)
		}
	}
	if cert != "" {
		pair, err := tls.LoadX509KeyPair(cert, key)
		if err != nil {
			return nil, fmt.Errorf("$FIVETRAN_GATEWAY_CERT/$FIVETRAN_GATEWAY_KEY: %v", err)
		}
		config.Certificates = []tls.Certificate{pair}
	}
	return config, nil
}

// dialOptionsFromEnv: TLS (or plaintext) and the bearer token.
func dialOptionsFromEnv() ([]grpc.DialOption, error) {
	config, err := tlsConfigFromEnv()
	if err != nil {
		return nil, err
	}
	token, err := tokenFromEnv()
	if err != nil {
		return nil, err
	}
	var opts []grpc.DialOption
	if config != nil {
		opts = append(opts, grpc.WithTransportCredentials(credentials.NewTLS(config)))
	} else {
		// grpc-go 1.33 (Debian) has no credentials/insecure package yet.
		opts = append(opts, grpc.WithInsecure())
	}
	if token != "" {
		opts = append(opts, grpc.WithPerRPCCredentials(bearerToken{token: token, secure: config != nil}))
	}
	return opts, nil
}
