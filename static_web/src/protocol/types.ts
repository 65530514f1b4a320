// The slice of the ChatKit wire protocol (openai-chatkit's types.py) this client speaks.
// Kept loose where the server may add fields: unknown fields are ignored, unknown
// event and item types are skipped rather than crashing the page.

export interface Page<T> {
  data: T[];
  has_more: boolean;
  after?: string | null;
}

export interface ThreadMetadata {
  id: string;
  title?: string | null;
  created_at: string;
  status?: { type: "active" | "locked" | "closed"; reason?: string | null };
  metadata?: Record<string, unknown>;
}

export interface Thread extends ThreadMetadata {
  items: Page<ThreadItem>;
}

export interface UploadDescriptor {
  url: string;
  method: "POST" | "PUT";
  headers?: Record<string, string>;
}

export interface Attachment {
  id: string;
  type: "file" | "image";
  name: string;
  mime_type: string;
  preview_url?: string | null;
  upload_descriptor?: UploadDescriptor | null;
  thread_id?: string | null;
}

export interface UserMessageContent {
  type: "input_text" | "input_tag";
  text: string;
}

export interface InferenceOptions {
  model?: string | null;
  tool_choice?: { id: string } | null;
}

export interface AssistantMessageContent {
  type: "output_text";
  text: string;
  annotations?: unknown[];
}

interface ItemBase {
  id: string;
  thread_id: string;
  created_at: string;
}

export interface UserMessageItem extends ItemBase {
  type: "user_message";
  content: UserMessageContent[];
  attachments?: Attachment[];
  quoted_text?: string | null;
  inference_options?: InferenceOptions;
}

export interface AssistantMessageItem extends ItemBase {
  type: "assistant_message";
  content: AssistantMessageContent[];
}

export interface WidgetItem extends ItemBase {
  type: "widget";
  widget: unknown;
  copy_text?: string | null;
}

/** Items this client does not draw (hidden context, end of turn, tasks, ...). */
export interface OtherItem extends ItemBase {
  type: string;
}

export type ThreadItem = UserMessageItem | AssistantMessageItem | WidgetItem | OtherItem;

export interface UserMessageInput {
  content: UserMessageContent[];
  attachments: string[];
  quoted_text?: string | null;
  inference_options: InferenceOptions;
}

export interface ItemUpdate {
  type: string;
  content_index?: number;
  delta?: string;
  content?: AssistantMessageContent;
  widget?: unknown;
  component_id?: string;
  component?: unknown;
  done?: boolean;
}

export type ThreadStreamEvent =
  | { type: "thread.created"; thread: Thread }
  | { type: "thread.updated"; thread: Thread }
  | { type: "thread.item.added"; item: ThreadItem }
  | { type: "thread.item.done"; item: ThreadItem }
  | { type: "thread.item.replaced"; item: ThreadItem }
  | { type: "thread.item.removed"; item_id: string }
  | { type: "thread.item.updated"; item_id: string; update: ItemUpdate }
  | { type: "stream_options"; stream_options: { allow_cancel: boolean } }
  | { type: "progress_update"; text: string; icon?: string | null }
  | { type: "client_effect"; name: string; data?: Record<string, unknown> }
  | { type: "error"; code?: string; message?: string | null; allow_retry?: boolean }
  | { type: "notice"; level: "info" | "warning" | "danger"; message: string; title?: string | null };

export interface ActionPayload {
  type: string;
  payload?: unknown;
}

/** What `GET /api/config` returns (shared/public_info.py). */
export interface AppConfig {
  use_cases: UseCaseInfo[];
  default_use_case: string;
  models: ModelOption[];
  default_model: string | null;
  model_configured: boolean;
  attachments: {
    enabled: boolean;
    max_bytes: number;
    max_per_message: number;
    accept: string[];
    upload: string;
  };
  chatkit: { api_path: string; domain_key: string | null };
  auth_mode: string;
}

export interface UseCaseInfo {
  name: string;
  title: string;
  description: string;
  greeting: string;
  starter_prompts: { label: string; prompt: string; icon?: string }[];
}

export interface ModelOption {
  id: string;
  label: string;
  description?: string;
  default?: boolean;
  available: boolean;
}
