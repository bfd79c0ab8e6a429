"""The last-resort voice: the `espeak-ng` command (a system package), robotic but always there."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import ClassVar

import anyio

from parley import errors
from parley.speech.pcm import WAV_HEADER_BYTES, local_formats, parse_wav_header, pcm_encoder

log = logging.getLogger(__name__)

VOICES = ("en-us", "en-gb", "en")
READ_BYTES = 16 * 1024
# One reply is at most a few hundred words: espeak-ng says that in well under a second.
TIME_LIMIT = 30.0
STOP_SECONDS = 5.0


class EspeakTTS:
    """espeak-ng writing WAV to its stdout, re-framed (or encoded) as it arrives."""

    name: ClassVar[str] = "espeak"
    needs_key: ClassVar[bool] = False
    label: ClassVar[str] = "espeak-ng"

    def __init__(self, binary: str, *, formats: tuple[str, ...] | None = None) -> None:
        self._binary = binary
        self._formats = formats or local_formats()

    @property
    def formats(self) -> tuple[str, ...]:
        return self._formats

    @property
    def voices(self) -> tuple[str, ...]:
        return VOICES

    async def synthesize(
        self, text: str, *, voice: str | None, fmt: str, api_key: str | None
    ) -> AsyncIterator[bytes]:
        """Audio in `fmt`, streamed while espeak-ng speaks."""
        if voice is not None and voice not in VOICES:
            raise errors.InvalidRequest(f"Pick one of these voices: {', '.join(VOICES)}.")
        # The text goes in on stdin, never on the command line: no shell, no option injection,
        # no argument-length limit. `-b 1` says the input is UTF-8.
        proc = await asyncio.create_subprocess_exec(
            self._binary, "--stdout", "-b", "1", "-v", voice or VOICES[0],
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
        )
        assert proc.stdin is not None and proc.stdout is not None
        try:
            await _feed(proc.stdin, " ".join(text.split()).encode("utf-8"))
            deadline = asyncio.get_running_loop().time() + TIME_LIMIT
            async for audio in _reframe(proc.stdout, fmt, deadline):
                yield audio
            if await proc.wait() != 0:
                log.error("espeak-ng exited with status %s", proc.returncode)
                raise errors.UpstreamError("The fallback voice failed on this text. Try again.")
        finally:
            # Shielded: Starlette cancels a stream through an anyio scope, which would cancel
            # this cleanup too and leave the process and its pipes behind.
            with anyio.CancelScope(shield=True):
                await _stop(proc)


async def _stop(proc: asyncio.subprocess.Process) -> None:
    """Kill espeak-ng if it is still talking, then reap it and close its pipes."""
    assert proc.stdout is not None
    # Popen.send_signal polls first and so can reap a process that has just exited behind
    # asyncio's child watcher ("Unknown child process" warnings): a process that has closed
    # its output is exiting anyway, so only one that is still talking is killed.
    if proc.returncode is None and not proc.stdout.at_eof():
        proc.kill()
    with anyio.move_on_after(STOP_SECONDS) as waited:
        await proc.communicate()
    if waited.cancelled_caught and proc.returncode is None:
        proc.kill()


async def _feed(stdin: asyncio.StreamWriter, text: bytes) -> None:
    try:
        stdin.write(text)
        await stdin.drain()
    except (BrokenPipeError, ConnectionResetError):
        pass  # espeak-ng is gone; reading its output says what happened
    finally:
        stdin.close()


async def _read(stdout: asyncio.StreamReader, size: int, deadline: float, *, exact: bool) -> bytes:
    # The deadline wraps each read, never a `yield`: a timeout scope that spans a yield
    # would fire in the consumer's code instead of here.
    try:
        async with asyncio.timeout_at(deadline):
            return await (stdout.readexactly(size) if exact else stdout.read(size))
    except TimeoutError:
        raise errors.UpstreamTimeout(
            "The fallback voice took too long. Try a shorter text."
        ) from None
    except asyncio.IncompleteReadError:
        raise errors.UpstreamError("The fallback voice made no audio for this text.") from None


async def _reframe(
    stdout: asyncio.StreamReader, fmt: str, deadline: float
) -> AsyncIterator[bytes]:
    # espeak-ng's header claims a size it cannot know (0x7ffff000): keep only its format.
    parsed = parse_wav_header(await _read(stdout, WAV_HEADER_BYTES, deadline, exact=True))
    if parsed is None or parsed[1:] != (1, 2):
        raise errors.UpstreamError("The fallback voice made audio Parley cannot read.")
    encoder = pcm_encoder(fmt, parsed[0])
    odd = b""  # a read can end inside a 2-byte sample
    while chunk := await _read(stdout, READ_BYTES, deadline, exact=False):
        chunk = odd + chunk
        cut = len(chunk) - len(chunk) % 2
        chunk, odd = chunk[:cut], chunk[cut:]
        if audio := encoder.encode(chunk):
            yield audio
    if tail := encoder.flush():
        yield tail
