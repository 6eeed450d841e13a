-- The lead agent (issue 9): chat conversations, their messages, every decision the agent
-- made (plan, tool call with validated arguments and result, fallback and why, sync
-- created) and the user's preferences it is given as context. Additive only.

CREATE TABLE lead_conversations (
    id          uuid        PRIMARY KEY,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE lead_messages (
    id              bigserial   PRIMARY KEY,
    conversation_id uuid        NOT NULL REFERENCES lead_conversations (id) ON DELETE CASCADE,
    role            text        NOT NULL CHECK (role IN ('user', 'assistant')),
    content         text        NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX lead_messages_conversation ON lead_messages (conversation_id, id);

CREATE TABLE lead_decisions (
    id              bigserial   PRIMARY KEY,
    conversation_id uuid        NOT NULL REFERENCES lead_conversations (id) ON DELETE CASCADE,
    -- the user message the decision answers
    message_id      bigint      NULL REFERENCES lead_messages (id) ON DELETE CASCADE,
    kind            text        NOT NULL CHECK (kind IN ('plan', 'tool_call', 'fallback', 'sync')),
    -- 'llm' or 'rules'
    planner         text        NOT NULL,
    tool            text        NULL,
    args            jsonb       NULL,
    result          jsonb       NULL,
    error           jsonb       NULL,
    sync_id         uuid        NULL,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX lead_decisions_conversation ON lead_decisions (conversation_id, id);

-- What the user prefers (formats, labels they trust, versions they like), handed to the
-- planner as data. Written by people (SQL or a later API), never by the model.
CREATE TABLE lead_preferences (
    key         text        PRIMARY KEY,
    value       jsonb       NOT NULL,
    source      text        NOT NULL DEFAULT 'user',
    updated_at  timestamptz NOT NULL DEFAULT now()
);
