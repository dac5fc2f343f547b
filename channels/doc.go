// Package channels connects citizens to the engine: the web chat API and widget, and the
// rendering of replies for each channel (SMS in GSM-7 within few segments, WhatsApp, web).
package channels
