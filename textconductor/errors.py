"""The one base class for "the user gave us something unusable".

Every such error carries a message that names the file or option and the reason; the command line
prints it as one line with exit status 2, never a traceback. Kept free of heavy imports so the
frontend can use it without loading torch.
"""


class UserError(Exception):
    """Bad input (file, option, message): shown to the user as is."""
