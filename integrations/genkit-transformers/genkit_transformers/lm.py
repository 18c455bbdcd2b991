"""The lm generator: a causal language model whose tokens stream to stdout as transformers samples them.

transformers' ``generate`` runs in a worker thread and hands each new token to a streamer; this
generator turns them into text chunks as they come, so the core streams them exactly as it streams
genkit's own ``text``. Each sample seeds torch with its item seed first, so sample k is the same
whatever ``--n``. Ctrl-C (or ``--stop``) ends the worker at its next token.
"""

from __future__ import annotations

import queue
import threading
from typing import Any

from genkit import GenkitError, TextChunk, item_seed, step_progress
from genkit_transformers import checks, loading

_END = object()


class LanguageModel:
    def __init__(self, device, weights=None):
        self.device = device
        self.model: Any = None  # built by load_model, once per model and precision
        self.loaded_for: tuple[Any, ...] | None = None
        self.record: Any = None

    def load_model(self, options: dict) -> dict:
        """Load the model ``--model`` names, once per model and precision (genkit calls this before
        anything is written); returns what was loaded for every file's provenance."""
        key = (options.get("model"), options.get("precision"))
        if key == self.loaded_for:
            return self.record
        source, precision = loading.open_source(
            options, "lm", checks.is_causal_lm, "causal language model", self.device
        )
        transformers = loading.quiet_libraries()
        self.tokenizer = transformers.AutoTokenizer.from_pretrained(
            source.folder, trust_remote_code=False, local_files_only=True
        )
        self.model = loading.load(source, transformers.AutoModelForCausalLM, precision, self.device)
        self.loaded_for = key
        self.record = dict(
            source.record(),
            **{"class": type(self.model).__name__, "tokenizer": type(self.tokenizer).__name__, "dtype": precision},
        )
        return self.record

    def encode(self, options: dict) -> list[int]:
        """The prompt's token ids (in the chat template with --chat), checked against the model's context."""
        prompt = options.get("prompt") or ""
        if options.get("chat"):
            if not getattr(self.tokenizer, "chat_template", None):
                raise GenkitError(f"--chat: {options['model']} has no chat template; leave out --chat")
            text = self.tokenizer.apply_chat_template(
                [{"role": "user", "content": prompt}], add_generation_prompt=True, tokenize=False
            )
            ids = self.tokenizer(text, add_special_tokens=False).input_ids
        else:
            ids = self.tokenizer(prompt).input_ids if prompt else []
        if not ids:
            start = (
                self.tokenizer.bos_token_id if self.tokenizer.bos_token_id is not None else self.tokenizer.eos_token_id
            )
            if start is None:
                raise GenkitError(f"{options['model']} has no start token; give a prompt")
            ids = [start]
        limit = loading.tokenizer_limit(self.tokenizer, self.model.config)
        if limit is not None and len(ids) > limit:
            raise GenkitError(f"the prompt is {len(ids)} tokens; this model reads at most {limit} (shorten it)")
        if limit is not None and len(ids) + options["max_tokens"] > limit:
            raise GenkitError(
                f"--max-tokens {options['max_tokens']} after a prompt of {len(ids)} tokens passes this model's "
                f"context of {limit} tokens; ask for at most {limit - len(ids)}"
            )
        return ids

    def generate(self, n: int, seed: int, options: dict, format: str):
        self.load_model(options)  # already loaded by genkit's run; the Python API may change options
        self.prompt_ids = self.encode(options)  # the prompt checked before the first token
        for index in range(n):
            s = item_seed(seed, index)
            for piece in Sample(self, options, s).pieces(f"sample {index + 1} tokens"):
                yield TextChunk(text=piece, index=index, seed=s)
            yield TextChunk(text="", index=index, seed=s, done=True)

    def generate_arguments(self, options: dict) -> dict:
        """The arguments of transformers' generate for these options (an unset --top-k/--top-p keeps the model's)."""
        arguments = {"max_new_tokens": options["max_tokens"]}
        temperature = options.get("temperature")
        if temperature == 0:
            arguments["do_sample"] = False
        else:
            arguments.update(do_sample=True, temperature=temperature)
            if options.get("top_k") is not None:
                arguments["top_k"] = options["top_k"]
            if options.get("top_p") is not None:
                arguments["top_p"] = options["top_p"]
        if self.model.generation_config.pad_token_id is None and self.tokenizer.eos_token_id is not None:
            arguments["pad_token_id"] = self.tokenizer.eos_token_id
        return arguments


class Sample:
    """One sample: transformers' generate in a worker thread, its tokens handed back as text pieces."""

    started: bool  # the streamer has seen the prompt (transformers hands it over first)

    def __init__(self, lm: LanguageModel, options: dict, seed: int):
        self.lm, self.options, self.seed = lm, options, seed
        self.tokens: queue.Queue = queue.Queue()
        self.stop = threading.Event()

    def put(self, value) -> None:  # transformers' streamer interface: the prompt first, then each new token
        if self.started:
            self.tokens.put(value.reshape(-1).tolist())
        self.started = True

    def end(self) -> None:
        self.tokens.put(_END)

    def work(self) -> None:
        import torch
        from transformers import StoppingCriteria, StoppingCriteriaList

        stop = self.stop

        class Stopped(StoppingCriteria):  # Ctrl-C or --stop in the main thread ends generation at the next token
            def __call__(self, input_ids, scores, **kwargs):
                return torch.full((input_ids.shape[0],), stop.is_set(), dtype=torch.bool, device=input_ids.device)

        try:
            torch.manual_seed(self.seed)
            ids = torch.tensor([self.lm.prompt_ids], device=self.lm.device)
            with torch.inference_mode():
                self.lm.model.generate(
                    input_ids=ids,
                    attention_mask=torch.ones_like(ids),
                    streamer=self,
                    stopping_criteria=StoppingCriteriaList([Stopped()]),
                    **self.lm.generate_arguments(self.options),
                )
        except BaseException as exc:  # handed to the main thread, which raises it
            self.tokens.put(exc)
        finally:
            self.tokens.put(_END)

    def pieces(self, description: str):
        """Yield the sample's text as it grows; held back: an unfinished character, a possible --stop."""
        self.started = False
        worker = threading.Thread(target=self.work, name="genkit-lm", daemon=True)
        worker.start()
        stop_text = self.options.get("stop") or ""
        ids: list[int] = []
        shown = 0
        try:
            with step_progress(self.options["max_tokens"], description) as advance:
                while True:
                    item = self._next(advance)
                    if item is _END:
                        break
                    if isinstance(item, BaseException):
                        raise item
                    ids += item
                    advance(len(item))
                    text = self.lm.tokenizer.decode(ids, skip_special_tokens=True, clean_up_tokenization_spaces=False)
                    cut = text.find(stop_text) if stop_text else -1
                    if cut >= 0:
                        self.stop.set()
                        yield text[shown:cut]
                        return
                    safe = len(text.rstrip("\ufffd")) - max(0, len(stop_text) - 1)
                    if safe > shown:
                        yield text[shown:safe]
                        shown = safe
            text = self.lm.tokenizer.decode(ids, skip_special_tokens=True, clean_up_tokenization_spaces=False)
            if len(text) > shown:
                yield text[shown:]
        finally:
            self.stop.set()
            worker.join()

    def _next(self, advance):
        while True:
            try:
                return self.tokens.get(timeout=0.1)
            except queue.Empty:
                advance(0)  # lets Ctrl-C through while the worker thinks
