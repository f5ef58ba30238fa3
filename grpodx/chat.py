"""Talk to a doctor yourself: you are the patient, in the terminal.

    python -m grpodx.chat --adapter runs/default/version_0/checkpoints/last-adapter
    python -m grpodx.chat --checkpoint runs/default/version_0/checkpoints/last.ckpt --show-reasoning
    python -m grpodx.chat                      # the base model alone

The doctor gets the training prompt and the training visible-history rule (its `<reason>` blocks
never re-enter its own context; the last turn asks it to commit). A conversation ends at
`Final diagnosis:` or after --max-turns doctor turns; then a new one starts. Ctrl-D or Ctrl-C
leaves (exit 0) and the conversation so far is still saved with --save.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from jsonargparse import Namespace
from rich.console import Console
from rich.panel import Panel
from rich.text import Text

from grpodx.dialogue import final_diagnosis
from grpodx.doctor.turns import Conversations, Seat, TurnTaker
from grpodx.episode import Dialogue, DoctorTurn
from grpodx.entry import entry_parser
from grpodx.errors import ConfigError, one_line_errors
from grpodx.threads import configure_threads

QUIT_WORDS = {"/quit", "/exit"}


@dataclass
class Conversation(Dialogue):
    """One chat: the person's opening words, every doctor turn (reasoning kept) and their replies."""

    opening_statement: str
    doctor_turns: list[DoctorTurn] = field(default_factory=list)
    patient_replies: list[str] = field(default_factory=list)
    final_diagnosis: str | None = None
    ended_by: str = "open"  # final_diagnosis | max_turns | quit | eof | interrupt
    started_at: str = field(default_factory=lambda: datetime.now(timezone.utc).isoformat(timespec="seconds"))
    doctor_side: Conversations | None = None  # the doctor's KV cache of this conversation, turn to turn

    def reply_texts(self) -> list[str]:
        return list(self.patient_replies)

    def _doctor_details(self, turn: DoctorTurn) -> dict:
        return {"raw": turn.text}

    def record(self, settings: dict) -> dict:
        """The JSONL record: settings, how it ended, and every turn with its hidden reasoning."""
        return {"started_at": self.started_at, **settings, "ended_by": self.ended_by,
                "final_diagnosis": self.final_diagnosis, "turns": self.transcript()}


def doctor_turn(doctor: TurnTaker, conversation: Conversation, last_turn: bool, greedy: bool) -> DoctorTurn:
    """The doctor's next turn, by the environment's rules (grpodx.doctor.turns)."""
    if conversation.doctor_side is None:
        conversation.doctor_side = Conversations(doctor)
    seat = Seat(0, conversation.opening_statement, conversation.visible_history())
    return conversation.doctor_side.next_turns([seat], last_turn, greedy)[0]


class TerminalChat:
    """The terminal loop: reads the patient's lines, prints the doctor's turns, saves each chat."""

    def __init__(self, doctor, console: Console, max_turns: int, greedy: bool, show_reasoning: bool,
                 save: str | None, settings: dict):
        self.doctor, self.console, self.max_turns, self.greedy = doctor, console, max_turns, greedy
        self.show_reasoning, self.save, self.settings = show_reasoning, save, settings
        self.current: Conversation | None = None

    def run(self) -> None:
        """Conversations until EOF, Ctrl-C or /quit; the open one is saved however it ends."""
        try:
            while self._conversation():
                pass
        except EOFError:
            self._close("eof")
        except KeyboardInterrupt:
            self._close("interrupt")
        self.console.print("\n[dim]Goodbye.[/dim]")

    def _conversation(self) -> bool:
        self.console.rule("[bold]New conversation[/bold] - describe your complaint (Ctrl-D or /quit leaves)")
        opening = self._read()
        if opening is None:
            return False
        self.current = Conversation(opening)
        for turn in range(self.max_turns):
            with self.console.status("The doctor is thinking..."):
                reply = doctor_turn(self.doctor, self.current, turn == self.max_turns - 1, self.greedy)
            self.current.doctor_turns.append(reply)
            self._show(reply)
            self.current.final_diagnosis = final_diagnosis(reply.visible_text)
            if self.current.final_diagnosis is not None:
                self.console.print(Panel(Text(self.current.final_diagnosis), title="Final diagnosis",
                                         border_style="green"))
                self._close("final_diagnosis")
                return True
            if turn == self.max_turns - 1:
                break
            answer = self._read()
            if answer is None:
                self._close("quit")
                return False
            self.current.patient_replies.append(answer)
        self.console.print(f"[yellow]No final diagnosis after {self.max_turns} doctor turns.[/yellow]")
        self._close("max_turns")
        return True

    def _read(self) -> str | None:
        """The patient's next non-empty line; None for /quit (EOFError and Ctrl-C propagate)."""
        while True:
            line = self.console.input("[bold cyan]You (patient):[/bold cyan] ").strip()
            if line.lower() in QUIT_WORDS:
                return None
            if line:
                return line

    def _show(self, turn: DoctorTurn) -> None:
        if self.show_reasoning and turn.reasoning:
            self.console.print(Text(f"[reasoning] {turn.reasoning}", style="dim italic"))
        self.console.print(Text.assemble(("Doctor: ", "bold magenta"), turn.visible_text or "(no visible text)"))

    def _close(self, ended_by: str) -> None:
        """Save the open conversation once (nothing when the person never spoke)."""
        conversation, self.current = self.current, None
        if conversation is None:
            return
        conversation.ended_by = ended_by
        if self.save:
            path = Path(self.save)
            path.parent.mkdir(parents=True, exist_ok=True)
            with open(path, "a") as handle:
                handle.write(json.dumps(conversation.record(self.settings)) + "\n")
            self.console.print(f"[dim]Saved to {path}[/dim]")


def parse_args(argv: list[str]) -> Namespace:
    parser = entry_parser("python -m grpodx.chat", __doc__)
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--adapter", help="a PEFT adapter folder (runs/.../checkpoints/last-adapter)")
    source.add_argument("--checkpoint", help="a LoRA-only Lightning checkpoint (runs/.../last.ckpt)")
    parser.add_argument("--model", help="base model reference (default: the checkpoint's, else the embedded "
                                        "SmolLM2-135M-Instruct)")
    parser.add_argument("--max-turns", type=int, help="doctor turns per conversation (default: the "
                                                      "checkpoint's max_turns, else 5)")
    parser.add_argument("--greedy", action="store_true", help="greedy decoding (deterministic)")
    parser.add_argument("--temperature", type=float, help="sampling temperature (default: the config's)")
    parser.add_argument("--top-p", type=float, help="nucleus sampling (default: the config's)")
    parser.add_argument("--max-new-tokens", type=int, help="cap per doctor turn (default: the config's)")
    parser.add_argument("--dtype", choices=["auto", "float32", "bfloat16", "float16"],
                        help="weights dtype (default: the checkpoint's, else auto as in training)")
    parser.add_argument("--show-reasoning", action="store_true", help="print the doctor's hidden <reason> text")
    parser.add_argument("--save", help="append each conversation as one JSON line to this file")
    parser.add_argument("--seed", type=int, default=0, help="sampling seed")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    console = Console()
    try:
        with one_line_errors("python -m grpodx.chat --help"):
            args = parse_args(sys.argv[1:] if argv is None else argv)
            configure_threads()
            session = _session(args, console)
    except KeyboardInterrupt:
        raise SystemExit(0)
    session.run()


def _session(args: Namespace, console: Console) -> TerminalChat:
    import torch

    from grpodx.chatter import quiet_libraries
    from grpodx.doctor.restore import read_checkpoint, restore_doctor

    quiet_libraries()  # the chat screen is the patient's; loading noise stays off it

    if args.max_turns is not None and args.max_turns < 1:
        raise ConfigError("--max-turns", f"must be >= 1, got {args.max_turns}", "use e.g. 5")
    with console.status("Loading the doctor..."):
        saved = read_checkpoint(args.checkpoint) if args.checkpoint else None
        doctor = restore_doctor(args.model, args.adapter, saved, dtype=args.dtype, temperature=args.temperature,
                                top_p=args.top_p, max_new_tokens=args.max_new_tokens)
    max_turns = args.max_turns or (saved.max_turns if saved else None) or 5
    torch.manual_seed(args.seed)
    settings = {"model": doctor.config.model, "adapter": args.adapter, "checkpoint": args.checkpoint,
                "greedy": args.greedy, "temperature": doctor.config.temperature, "top_p": doctor.config.top_p,
                "max_new_tokens": doctor.config.max_new_tokens, "max_turns": max_turns, "seed": args.seed}
    console.print(f"[bold]GRPODx chat[/bold]: {doctor.config.model}"
                  f"{' + ' + (args.adapter or args.checkpoint) if args.adapter or args.checkpoint else ' (base model)'}"
                  f", {'greedy' if args.greedy else f'temperature {doctor.config.temperature}'}, {max_turns} turns")
    return TerminalChat(doctor, console, max_turns, args.greedy, args.show_reasoning, args.save, settings)


if __name__ == "__main__":
    main()
