package main

import (
	"errors"
	"log/slog"
	"net/http"

	"github.com/atiende/atiende/channels/twilio"
	"github.com/atiende/atiende/channels/web"
	"github.com/atiende/atiende/handoff/console"
	"github.com/atiende/atiende/httperr"
	"github.com/atiende/atiende/store"
	"github.com/gin-gonic/gin"
)

// mounts are the surfaces the process serves besides the web chat's own (channels/web,
// routes.go): each with the prefix of its routes, the method that lists them, and how it
// answers errors (httperr: JSON for the APIs, a page for the console and its reports, empty
// TwiML for Twilio's webhooks), which also answers an unknown address under its prefix.
// A new channel is a line here. testdata/routes.txt lists every route of the process, and
// TestRouteList keeps it true.
func mounts(log *slog.Logger, agents *console.Console[store.Tx], tw *twilio.Service[store.Tx]) []web.Mount {
	webhooks := twilioOff(log)
	if tw != nil {
		webhooks = tw.Routes
	}
	return []web.Mount{
		{Prefix: "/agent", Routes: agents.Routes, Errors: console.Page.Surface},
		{Prefix: "/webhooks/twilio", Routes: webhooks, Errors: httperr.TwiML},
	}
}

// errTwilioOff: the webhooks answer 503 when the channel is not configured, so that Twilio
// shows the failure in its console instead of a silent 404.
var errTwilioOff = httperr.Wrap(http.StatusServiceUnavailable, "", errors.New("SMS and WhatsApp are not configured on this server (TWILIO_AUTH_TOKEN)"))

// twilioOff lists the Twilio webhooks' routes for a server without the channel.
func twilioOff(log *slog.Logger) func(r gin.IRouter) {
	off := httperr.Mapper{Log: log, Surface: httperr.TwiML}.Handle(func(*gin.Context) error { return errTwilioOff })
	return func(r gin.IRouter) {
		r.POST("/webhooks/twilio/messaging", off)
		r.POST("/webhooks/twilio/status", off)
	}
}
