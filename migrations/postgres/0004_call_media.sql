-- How each call's audio reached us: the codec (`pcmu` for carriers' G.711 μ-law,
-- `opus` for the browser softphone) and the transport (`twilio-media-streams`,
-- `browser-websocket`). Calls recorded before this migration have neither.
ALTER TABLE calls ADD COLUMN codec TEXT;
ALTER TABLE calls ADD COLUMN transport TEXT;
