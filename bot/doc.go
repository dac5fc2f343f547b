// Package bot is the dialogue engine: one Turn reads the conversation's state and the
// citizen's text and decides what to do (answer from a ficha, clarify, hand off to a person,
// give the emergency lines, refuse, greet, say goodbye, stop writing) and writes the reply.
//
// The engine is deterministic and extractive: every fact in an answer is a sentence of the
// ficha it names, with its link. It knows the catalogue only through the Retriever interface.
package bot
