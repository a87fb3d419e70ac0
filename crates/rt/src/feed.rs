//! What RT's changes mean for agents, decided without RT: a pure function of the
//! transactions and the tickets they are on.
