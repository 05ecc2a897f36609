"""(Being written: see issue 12.)"""
