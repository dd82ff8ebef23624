package gpio

// EdgeWait lets the external tests hold Run's stop to the bound that
// edgeWait documents, and follow it if it changes.
const EdgeWait = edgeWait
