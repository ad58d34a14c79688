"""Every file name and format version of a model folder, in one place (standard library only)."""

from __future__ import annotations

FORMAT_NAME = "recommender-model"
FORMAT_VERSION = 2
#: Versions this library reads. Version 1 kept ids and article metadata as JSON lists; version 2 keeps
#: them as byte tables (``.npy``) with an id hash table, so a million-article model opens in milliseconds.
READABLE_VERSIONS = (1, 2)
MANIFEST = "manifest.json"
#: Beside its generation folders a model path holds the pointer naming the current one and the writers'
#: lock file (see recommender.store.layout for the whole layout).
POINTER = "CURRENT"
LOCK = "LOCK"
REBUILD = "rebuild it with: recommender build CORPUS -o {path}"

# Names of the parts of a model folder (without extension), shared by the writer and the readers.
IDS = "ids"
ARTICLES = "articles"
ANALYZER = "analyzer"
VOCABULARY = "vocabulary"
IDF = "idf"
VECTORS_DATA = "vectors_data"
VECTORS_INDICES = "vectors_indices"
VECTORS_INDPTR = "vectors_indptr"
NEIGHBORS = "neighbors"
SCORES = "scores"

TITLES = "titles"
DATES = "dates"
URLS = "urls"
ID_TABLE = "id_table"

LSA_COMPONENTS = "lsa_components"
SURFACE = "surface"
DUPLICATES = "duplicates"
HUBS = "hubs"
WEIGHTING = "weighting"
#: The semantic view's encoder as the build used it: name, fingerprint, dimension, window and text recipe.
SEMANTIC = "semantic"
POOL_NEIGHBORS = "pool_neighbors"
POOL_SCORES = "pool_scores"
LENGTHS = "lengths"

# The draft tables (what the numpy-only ``Index.query`` reads; see recommender.serve.drafts).
QUERY_DOCUMENT = "query"
QUERY_FORMS = "query_forms"
QUERY_FORM_TABLE = "query_form_table"
QUERY_FORM_TERMS = "query_form_terms"
QUERY_TERMS = "query_terms"
QUERY_TERM_TABLE = "query_term_table"
QUERY_POSTINGS_INDPTR = "query_postings_indptr"
QUERY_POSTINGS_ROWS = "query_postings_rows"
QUERY_POSTINGS_WEIGHTS = "query_postings_weights"
QUERY_MAX_WEIGHT = "query_max_weight"
QUERY_LSA = "query_lsa"
QUERY_ROW_LANGUAGES = "query_row_languages"
QUERY_HIDDEN = "query_hidden_rows"
#: Table format of the draft tables (inside model format version 2).
QUERY_TABLES_VERSION = 1
#: Term numbers the form table gives a token: a stop word, a too-short token or digits ...
FORM_DROPPED = -1
#: ... or a kept token whose term is not in the vocabulary (or was never seen: not stemmable here).
FORM_NO_TERM = -2

# Readable words for explanations: each article's own word for each of its terms (original case, as
# written), a string table of those words and, aligned with the vectors' entries, the row of each one.
SURFACE_FORMS = "surface_forms"
VECTOR_FORMS = "vector_forms"
