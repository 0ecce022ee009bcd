namespace Microsoft.ML.DiffNft.Collections;

/// <summary>The metadata layouts <see cref="NftCollectionLoader"/> reads.</summary>
public enum NftCollectionFormat
{
    /// <summary>Tell the layout from the path: a folder's contents, a file's extension and first bytes or CSV header.</summary>
    Auto,

    /// <summary>
    /// One OpenSea metadata object per file, named by token id: <c>{id}.json</c> or a bare <c>{id}</c> (HashLips,
    /// most <c>baseURI</c> folders). Give the folder. The token id comes from the file name.
    /// </summary>
    TokenFiles,

    /// <summary>
    /// One JSON file holding an array of token objects: OpenSea objects (<c>_metadata.json</c>, Pudgy Penguins' dump) or
    /// trait maps (<c>[{"id": 0, "traits": {"background": "red"}}]</c>, the mfers shape). Ids come from <c>token_id</c>,
    /// <c>tokenId</c>, <c>id</c> or <c>edition</c>, or from a name ending in <c>#123</c>.
    /// </summary>
    JsonArray,

    /// <summary>JSON Lines: one token object per line, OpenSea metadata or <c>{"token_id": N, "metadata": {…}}</c>.</summary>
    JsonLines,

    /// <summary>A long CSV, one row per attribute: <c>token_id,trait_type,value[,value_type][,display_type][,max_value]</c>.</summary>
    LongCsv,

    /// <summary>A wide CSV, one row per token: <c>token_id,&lt;trait 1&gt;,&lt;trait 2&gt;,…</c>; an empty cell means the trait is absent.</summary>
    WideCsv,
}
