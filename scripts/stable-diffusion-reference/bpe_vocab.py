"""Builds the tiny CLIP-style byte-level BPE vocabulary (exactly 1000 entries) for the test tokenizer.

diffusers' own tests download a tiny CLIP tokenizer, which is not possible here, so this module learns one: a
plain BPE training (most frequent adjacent pair first, ties broken by the pair's text) over a small English and
NFT-prompt corpus written below. The layout copies OpenAI CLIP's vocabulary:

    ids   0..255   the 256 byte symbols of bytes_to_unicode(), in its order
    ids 256..511   the same symbols with "</w>" (end of word) appended
    ids 512..997   one entry per merge, in merge order (486 merges)
    id  998        <|startoftext|>
    id  999        <|endoftext|>

Only the vocabulary is produced here; the tokenizer that uses it is transformers' own CLIPTokenizer.
"""

import collections

import regex

VOCAB_SIZE = 1000
SPECIAL_TOKENS = ["<|startoftext|>", "<|endoftext|>"]

# CLIP's pre-tokenisation pattern (the one transformers' CLIPTokenizer compiles), used to cut the corpus into words.
_WORD_PATTERN = regex.compile(
    r"""<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+""",
    regex.IGNORECASE,
)

CORPUS = """
a photo of a cat sitting on a wooden table next to a window, soft morning light, highly detailed
a painting of a mountain landscape at sunset with a river and pine trees, oil on canvas
portrait of an astronaut riding a horse on the moon, digital art, trending on artstation
a pixel art ape wearing sunglasses and a gold chain, background: purple, rarity: legendary
cute robot holding a red balloon in a city street, rainy night, neon lights, cinematic
the quick brown fox jumps over the lazy dog while the children are playing in the garden
an illustration of a dragon flying over a medieval castle, fantasy, epic, dramatic clouds
character: punk, hat: beanie, eyes: laser, mouth: smile, background: blue, fur: golden
collection of unique generative avatars with rare traits and common accessories
a close up photograph of a flower with water drops, macro lens, shallow depth of field
watercolor sketch of a small house by the lake, there is a boat and a wooden bridge
low poly render of a fox in a forest, isometric view, pastel colors, soft shadows
a black and white photo of an old man reading a newspaper in the park
three dimensional render of a crystal skull on a marble floor, studio lighting, 8k
anime style girl with long silver hair and blue eyes, school uniform, cherry blossoms
token number one thousand two hundred and thirty four, very rare, only ten exist
the model generates images from text prompts, and the reward model scores their rarity
we fine tune the diffusion model with low rank adapters and proximal policy optimization
it is a beautiful day and they're going to the beach; we've been waiting all week
i'm sure you'll love it, she said, but he didn't think it would be that easy
background colors: red, orange, yellow, green, blue, indigo, violet, white, black, gray
accessories: earring, necklace, crown, helmet, scarf, glasses, pipe, cigar, headphones
skin: zombie, alien, robot, gold, silver, bronze, diamond, ice, fire, shadow, ghost
a detailed matte painting of a futuristic city with flying cars and tall towers
hyperrealistic portrait of a lion with a mane made of flames, dark background
photograph of a vintage car parked in front of a diner, golden hour, film grain
an abstract composition of circles, squares and triangles in bright primary colors
a cozy living room with a fireplace, a sleeping dog and a cup of hot chocolate
an ancient temple in the jungle covered with vines, rays of light through the trees
concept art of a space station orbiting a blue planet, stars and nebula in the sky
a still life with apples, pears and grapes in a ceramic bowl, renaissance style
the weather today is sunny with a chance of rain in the afternoon and evening
""".strip()


def bytes_to_unicode():
    """OpenAI CLIP's reversible byte -> printable character table (same order as transformers' copy)."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(2**8):
        if b not in bs:
            bs.append(b)
            cs.append(2**8 + n)
            n += 1
    return dict(zip(bs, [chr(c) for c in cs]))


def _corpus_words(text):
    byte_encoder = bytes_to_unicode()
    counts = collections.Counter()
    for line in text.splitlines():
        line = " ".join(line.split()).lower()
        for word in _WORD_PATTERN.findall(line):
            symbols = [byte_encoder[b] for b in word.encode("utf-8")]
            symbols[-1] += "</w>"
            counts[tuple(symbols)] += 1
    return counts


def _merge_word(word, pair):
    merged = []
    i = 0
    while i < len(word):
        if i < len(word) - 1 and word[i] == pair[0] and word[i + 1] == pair[1]:
            merged.append(word[i] + word[i + 1])
            i += 2
        else:
            merged.append(word[i])
            i += 1
    return tuple(merged)


def learn_merges(text=CORPUS, vocab_size=VOCAB_SIZE):
    """Returns the list of merges (pairs of symbols) that fills the vocabulary up to `vocab_size` entries."""
    base = list(bytes_to_unicode().values())
    base += [s + "</w>" for s in base]
    wanted = vocab_size - len(base) - len(SPECIAL_TOKENS)
    known = set(base)
    words = _corpus_words(text)
    merges = []
    while len(merges) < wanted:
        pair_counts = collections.Counter()
        for word, count in words.items():
            for pair in zip(word, word[1:]):
                pair_counts[pair] += count
        # A merge whose result already exists (e.g. "ab"+"c" after "a"+"bc") would give a duplicate vocab entry.
        candidates = [(-count, pair) for pair, count in pair_counts.items() if pair[0] + pair[1] not in known]
        if not candidates:
            raise ValueError(f"corpus too small: only {len(merges)} merges of {wanted} could be learnt")
        _, best = min(candidates)
        merges.append(best)
        known.add(best[0] + best[1])
        words = collections.Counter({_merge_word(w, best): c for w, c in words.items()})
    return merges


def build_vocab(merges):
    """Returns the CLIP-layout vocabulary {token: id} for `merges`."""
    tokens = list(bytes_to_unicode().values())
    tokens += [s + "</w>" for s in tokens]
    tokens += [a + b for a, b in merges]
    tokens += SPECIAL_TOKENS
    vocab = {token: i for i, token in enumerate(tokens)}
    if len(vocab) != len(tokens):
        raise AssertionError("duplicate vocabulary entries")
    return vocab


def merges_text(merges):
    """The merges.txt body in CLIP's format: a version line, then one "left right" pair per line."""
    return "#version: 0.2\n" + "\n".join(f"{a} {b}" for a, b in merges)
