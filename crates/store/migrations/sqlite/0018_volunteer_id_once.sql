-- One volunteer per person: an ID number is registered once (a rejected registration may be made again).
CREATE UNIQUE INDEX volunteer_application_id ON volunteer_application (id_bidx) WHERE status <> 'rejected';
